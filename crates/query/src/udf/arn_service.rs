//! `arn_service(arn)`: the service namespace of an ARN (`iam`, `sts`, `s3`, ...).

use super::arn::Arn;
use super::{FunctionDoc, map_to_string};

/// Documentation; its example is checked by the tests in `udf`.
pub(super) const DOC: FunctionDoc = FunctionDoc {
    name: "arn_service",
    usage: "arn_service(arn)",
    description: "The service namespace of an ARN (`iam`, `sts`, `s3`, ...). NULL when the argument is NULL or not an ARN.",
    example: "arn_service('arn:aws:sts::111122223333:assumed-role/Admin/alice')",
    result: "sts",
};

string_function!(
    ArnService,
    arity = 1,
    returns = arrow::datatypes::DataType::Utf8,
    invoke = |args| map_to_string(args, |text| Arn::parse(text).map(|a| a.service))
);
