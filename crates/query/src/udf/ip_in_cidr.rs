//! `ip_in_cidr(ip, cidr)`: whether an IPv4 or IPv6 address lies in a network.

use std::net::IpAddr;
use std::sync::Arc;

use arrow::array::{Array, AsArray, BooleanArray};
use datafusion::common::{ScalarValue, exec_err};
use datafusion::error::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs};
use ipnet::IpNet;

use super::{FunctionDoc, finish, utf8_arguments};

/// Documentation; its example is checked by the tests in `udf`.
pub(super) const DOC: FunctionDoc = FunctionDoc {
    name: "ip_in_cidr",
    usage: "ip_in_cidr(ip, cidr)",
    description: "Whether the address `ip` (IPv4 or IPv6; an IPv4-mapped IPv6 address counts as \
                  IPv4) lies in the network `cidr` (`10.0.0.0/8`, `2001:db8::/32`, or a bare \
                  address). NULL when either is NULL or `ip` is not an address (CloudTrail's \
                  `sourceIPAddress` holds service names too). A malformed constant `cidr` is an \
                  error; a malformed one in a column gives NULL.",
    example: "ip_in_cidr('10.1.2.3', '10.0.0.0/8')",
    result: "true",
};

string_function!(
    IpInCidr,
    arity = 2,
    returns = arrow::datatypes::DataType::Boolean,
    invoke = invoke
);

fn invoke(args: &ScalarFunctionArgs) -> Result<ColumnarValue> {
    // A constant network is parsed once, and a typo in it is reported, not hidden.
    let constant = match &args.args[1] {
        ColumnarValue::Scalar(value) => match scalar_text(value) {
            Some(text) => match parse_net(text) {
                Some(net) => Some(Some(net)),
                None => return exec_err!("ip_in_cidr: '{text}' is not a CIDR network"),
            },
            None => Some(None),
        },
        ColumnarValue::Array(_) => None,
    };
    let (arrays, scalar) = utf8_arguments(args)?;
    let ips = arrays[0].as_string::<i32>();
    let nets = arrays[1].as_string::<i32>();
    let out: BooleanArray = (0..ips.len())
        .map(|row| {
            let net = match constant {
                Some(net) => net,
                None => nets
                    .is_valid(row)
                    .then(|| parse_net(nets.value(row)))
                    .flatten(),
            }?;
            let ip = ips.is_valid(row).then(|| ips.value(row))?;
            contains(net, ip.trim().parse().ok()?)
        })
        .collect();
    finish(Arc::new(out), scalar)
}

fn scalar_text(value: &ScalarValue) -> Option<&str> {
    match value {
        ScalarValue::Utf8(text) | ScalarValue::LargeUtf8(text) | ScalarValue::Utf8View(text) => {
            text.as_deref()
        }
        _ => None,
    }
}

/// A network in CIDR form, or a bare address as a one-address network.
fn parse_net(text: &str) -> Option<IpNet> {
    let text = text.trim();
    text.parse::<IpNet>()
        .ok()
        .or_else(|| text.parse::<IpAddr>().ok().map(IpNet::from))
}

fn contains(net: IpNet, ip: IpAddr) -> Option<bool> {
    let ip = match (net, ip) {
        (IpNet::V4(_), IpAddr::V6(v6)) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        _ => ip,
    };
    Some(net.contains(&ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(ip: &str, cidr: &str) -> Option<bool> {
        contains(parse_net(cidr)?, ip.parse().ok()?)
    }

    #[test]
    fn ipv4_ipv6_mapped_and_bare_addresses() {
        assert_eq!(check("10.1.2.3", "10.0.0.0/8"), Some(true));
        assert_eq!(check("11.1.2.3", "10.0.0.0/8"), Some(false));
        assert_eq!(check("2001:db8::1", "2001:db8::/32"), Some(true));
        assert_eq!(check("2001:db9::1", "2001:db8::/32"), Some(false));
        assert_eq!(check("::ffff:10.0.0.1", "10.0.0.0/8"), Some(true));
        assert_eq!(check("10.0.0.1", "2001:db8::/32"), Some(false));
        assert_eq!(check("192.0.2.7", "192.0.2.7"), Some(true));
        assert_eq!(check("192.0.2.8", "192.0.2.7"), Some(false));
        assert_eq!(check("0.0.0.0", "0.0.0.0/0"), Some(true));
    }

    #[test]
    fn malformed_input_is_none() {
        assert_eq!(check("ec2.amazonaws.com", "10.0.0.0/8"), None);
        assert_eq!(check("10.0.0.1", "10.0.0.0/33"), None);
        assert_eq!(check("10.0.0.1", "ten/8"), None);
        assert_eq!(check("", ""), None);
    }
}
