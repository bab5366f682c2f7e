//! `is_aws_service_source(source_ip_address)`: whether a call came from an AWS service.

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
///
/// No address ends with a service domain, so the suffixes alone decide (compared without
/// allocating: every detection's `via_aws_service` asks this of every event).
fn is_service(text: &str) -> bool {
    let host = text.as_bytes().trim_ascii();
    // Fast path: every service name and `AWS Internal` end in one of these letters; an
    // address ends in a digit or a hexadecimal digit (IPv6), a letter none of these.
    if !matches!(
        host.last().map(u8::to_ascii_lowercase),
        Some(b'm' | b'n' | b's' | b'l')
    ) {
        return false;
    }
    if host.eq_ignore_ascii_case(b"AWS Internal") {
        return true;
    }
    SERVICE_SUFFIXES.iter().any(|suffix| {
        host.len() >= suffix.len()
            && host[host.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
    })
}

/// The domains of AWS service endpoints.
const SERVICE_SUFFIXES: [&str; 4] = [
    ".amazonaws.com",
    ".amazonaws.com.cn",
    ".amazon.com",
    ".api.aws",
];

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
            "SSM.AmazonAWS.com",
            " aws internal ",
        ] {
            assert!(is_service(service), "{service}");
        }
        for other in [
            "203.0.113.7",
            "2001:db8::1",
            "example.com",
            "amazonaws.com.evil.net",
            "",
            "EC2.AMAZONAWS.COM.example",
        ] {
            assert!(!is_service(other), "{other}");
        }
    }
}
