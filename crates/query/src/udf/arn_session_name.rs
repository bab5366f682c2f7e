//! `arn_session_name(arn)`: the session name of an assumed-role session ARN.

use super::arn::Arn;
use super::{FunctionDoc, map_to_string};

/// Documentation; its example is checked by the tests in `udf`.
pub(super) const DOC: FunctionDoc = FunctionDoc {
    name: "arn_session_name",
    usage: "arn_session_name(arn)",
    description: "The session name of an STS assumed-role ARN (`assumed-role/ROLE/SESSION`): often \
                  the person (Identity Center, SAML) or the instance. NULL for other ARNs, NULL or \
                  malformed input.",
    example: "arn_session_name('arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123/alice@example.com')",
    result: "alice@example.com",
};

string_function!(
    ArnSessionName,
    arity = 1,
    returns = arrow::datatypes::DataType::Utf8,
    invoke = |args| map_to_string(args, |text| Arn::parse(text)?
        .assumed_role()
        .map(|(_, s)| s))
);
