//! `arn_partition(arn)`: the partition of an ARN (`aws`, `aws-cn`, `aws-us-gov`).

use super::arn::Arn;
use super::{FunctionDoc, map_to_string};

/// Documentation; its example is checked by the tests in `udf`.
pub(super) const DOC: FunctionDoc = FunctionDoc {
    name: "arn_partition",
    usage: "arn_partition(arn)",
    description: "The partition of an ARN (`aws`, `aws-cn`, `aws-us-gov`). NULL when the argument is NULL or not an ARN.",
    example: "arn_partition('arn:aws-cn:iam::111122223333:user/alice')",
    result: "aws-cn",
};

string_function!(
    ArnPartition,
    arity = 1,
    returns = arrow::datatypes::DataType::Utf8,
    invoke = |args| map_to_string(args, |text| Arn::parse(text).map(|a| a.partition))
);
