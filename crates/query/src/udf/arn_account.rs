//! `arn_account(arn)`: the account id of an ARN; NULL where it is blank (S3 buckets).

use super::arn::{Arn, non_empty};
use super::{FunctionDoc, map_to_string};

/// Documentation; its example is checked by the tests in `udf`.
pub(super) const DOC: FunctionDoc = FunctionDoc {
    name: "arn_account",
    usage: "arn_account(arn)",
    description: "The account id of an ARN; NULL where it is blank (S3 buckets). NULL when the argument is NULL or not an ARN.",
    example: "arn_account('arn:aws:iam::111122223333:user/alice')",
    result: "111122223333",
};

string_function!(
    ArnAccount,
    arity = 1,
    returns = arrow::datatypes::DataType::Utf8,
    invoke = |args| map_to_string(args, |text| Arn::parse(text)
        .and_then(|a| non_empty(a.account)))
);
