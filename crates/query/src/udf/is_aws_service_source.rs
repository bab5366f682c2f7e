//! `is_aws_service_source(source_ip_address)`: whether a call came from an AWS service.

use std::net::IpAddr;

use super::{FunctionDoc, map_to_bool};

/// Documentation; its example is checked by the tests in `udf`.
pub(super) const DOC: FunctionDoc = FunctionDoc {
    name: "is_aws_service_source",
    usage: "is_aws_service_source(source_ip_address)",
    description: "Whether CloudTrail's `sourceIPAddress` names an AWS service rather than a \
                  network address: a service host name such as `ec2.amazonaws.com`, or `AWS \
                  Internal`. NULL for NULL.",
    example: "is_aws_service_source('lambda.amazonaws.com')",
    result: "true",
};

string_function!(
    IsAwsServiceSource,
    arity = 1,
    returns = arrow::datatypes::DataType::Boolean,
    invoke = |args| map_to_bool(args, |text| Some(is_service(text)))
);

/// CloudTrail documents `sourceIPAddress` as "the IP address that the request was made
/// from. For actions that originate from the service console, the address reported is
/// for the underlying customer resource... For services, the address is the DNS name of
/// the service" (CloudTrail record contents), and `AWS Internal` for some internal calls.
fn is_service(text: &str) -> bool {
    let text = text.trim();
    if text.eq_ignore_ascii_case("AWS Internal") {
        return true;
    }
    if text.parse::<IpAddr>().is_ok() {
        return false;
    }
    let host = text.to_ascii_lowercase();
    [
        ".amazonaws.com",
        ".amazonaws.com.cn",
        ".amazon.com",
        ".api.aws",
    ]
    .iter()
    .any(|suffix| host.ends_with(suffix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_versus_addresses() {
        for service in [
            "ec2.amazonaws.com",
            "AWS Internal",
            "config.amazonaws.com.cn",
            "access-analyzer.amazonaws.com",
        ] {
            assert!(is_service(service), "{service}");
        }
        for other in [
            "203.0.113.7",
            "2001:db8::1",
            "example.com",
            "amazonaws.com.evil.net",
            "",
        ] {
            assert!(!is_service(other), "{other}");
        }
    }
}
