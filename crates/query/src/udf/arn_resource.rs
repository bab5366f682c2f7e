//! `arn_resource(arn)`: everything after the account: the resource type and id, e.g. `user/alice`, `root`, `assumed-role/Admin/alice`.

use super::arn::Arn;
use super::{FunctionDoc, map_to_string};

/// Documentation; its example is checked by the tests in `udf`.
pub(super) const DOC: FunctionDoc = FunctionDoc {
    name: "arn_resource",
    usage: "arn_resource(arn)",
    description: "Everything after the account: the resource type and id, e.g. `user/alice`, `root`, `assumed-role/Admin/alice`. NULL when the argument is NULL or not an ARN.",
    example: "arn_resource('arn:aws:iam::111122223333:root')",
    result: "root",
};

string_function!(
    ArnResource,
    arity = 1,
    returns = arrow::datatypes::DataType::Utf8,
    invoke = |args| map_to_string(args, |text| Arn::parse(text).map(|a| a.resource))
);
