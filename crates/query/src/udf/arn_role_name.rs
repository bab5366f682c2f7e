//! `arn_role_name(arn)`: the role of an assumed-role session ARN (or of a role ARN).

use super::arn::Arn;
use super::{FunctionDoc, map_to_string};

/// Documentation; its example is checked by the tests in `udf`.
pub(super) const DOC: FunctionDoc = FunctionDoc {
    name: "arn_role_name",
    usage: "arn_role_name(arn)",
    description: "The role name of an STS assumed-role ARN (`assumed-role/ROLE/SESSION`), or of an \
                  IAM role ARN without its path. NULL for other ARNs, NULL or malformed input.",
    example: "arn_role_name('arn:aws:sts::111122223333:assumed-role/Admin/alice')",
    result: "Admin",
};

string_function!(
    ArnRoleName,
    arity = 1,
    returns = arrow::datatypes::DataType::Utf8,
    invoke = |args| map_to_string(args, |text| {
        let arn = Arn::parse(text)?;
        arn.assumed_role()
            .map(|(role, _)| role)
            .or_else(|| arn.iam_role())
    })
);
