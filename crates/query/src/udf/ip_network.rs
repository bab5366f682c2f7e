//! `ip_network(ip)`: the network an address belongs to, for counting people rather than
//! the addresses of one proxy, VPN or carrier NAT pool.

use std::net::IpAddr;
use std::sync::Arc;

use arrow::array::{AsArray, StringArray};
use datafusion::error::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use super::{FunctionDoc, finish, utf8_arguments};

/// Documentation; its example is checked by the tests in `udf`.
pub(super) const DOC: FunctionDoc = FunctionDoc {
    name: "ip_network",
    usage: "ip_network(ip)",
    description: "The network of an address: its IPv4 /24 or IPv6 /48 (an IPv4-mapped IPv6 \
                  address counts as IPv4), in CIDR form. One organization's proxy, VPN or \
                  carrier NAT hands out many addresses of one such network. NULL when the \
                  argument is NULL or not an address (service names in `sourceIPAddress`).",
    example: "ip_network('198.51.100.23')",
    result: "198.51.100.0/24",
};

string_function!(
    IpNetwork,
    arity = 1,
    returns = arrow::datatypes::DataType::Utf8,
    invoke = invoke
);

fn invoke(args: &ScalarFunctionArgs) -> Result<ColumnarValue> {
    let (arrays, scalar) = utf8_arguments(args)?;
    let out: StringArray = arrays[0]
        .as_string::<i32>()
        .iter()
        .map(|value| value.and_then(network))
        .collect();
    finish(Arc::new(out), scalar)
}

/// The /24 or /48 of `text`, if it is an address.
fn network(text: &str) -> Option<String> {
    let ip: IpAddr = text.trim().parse().ok()?;
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    let net = match ip {
        IpAddr::V4(v4) => IpNet::V4(Ipv4Net::new(v4, 24).ok()?.trunc()),
        IpAddr::V6(v6) => IpNet::V6(Ipv6Net::new(v6, 48).ok()?.trunc()),
    };
    Some(net.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_ipv6_and_mapped_addresses() {
        assert_eq!(network("198.51.100.23").as_deref(), Some("198.51.100.0/24"));
        assert_eq!(network(" 10.0.0.255 ").as_deref(), Some("10.0.0.0/24"));
        assert_eq!(
            network("2001:db8:1:2:3::4").as_deref(),
            Some("2001:db8:1::/48")
        );
        assert_eq!(network("::ffff:192.0.2.9").as_deref(), Some("192.0.2.0/24"));
    }

    #[test]
    fn what_is_no_address_has_no_network() {
        assert_eq!(network("ec2.amazonaws.com"), None);
        assert_eq!(network("AWS Internal"), None);
        assert_eq!(network(""), None);
    }
}
