//! `arn_region(arn)`: the region of an ARN; NULL for global resources such as IAM's, whose region is blank.

use super::arn::{Arn, non_empty};
use super::{FunctionDoc, map_to_string};

/// Documentation; its example is checked by the tests in `udf`.
pub(super) const DOC: FunctionDoc = FunctionDoc {
    name: "arn_region",
    usage: "arn_region(arn)",
    description: "The region of an ARN; NULL for global resources such as IAM's, whose region is blank. NULL when the argument is NULL or not an ARN.",
    example: "arn_region('arn:aws:lambda:eu-west-1:111122223333:function:f')",
    result: "eu-west-1",
};

string_function!(
    ArnRegion,
    arity = 1,
    returns = arrow::datatypes::DataType::Utf8,
    invoke = |args| map_to_string(args, |text| Arn::parse(text)
        .and_then(|a| non_empty(a.region)))
);
