//! ARN parsing shared by the `arn_*` functions.
//!
//! An ARN is `arn:partition:service:region:account-id:resource`, where the resource may
//! itself hold colons and slashes
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html>).

/// The six parts of an ARN, borrowed from the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// Parses `text`; `None` unless it starts with `arn:` and has all six parts, with a
    /// partition, a service and a resource.
    pub fn parse(text: &'a str) -> Option<Self> {
        let mut parts = text.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        let arn = Arn {
            partition: parts.next()?,
            service: parts.next()?,
            region: parts.next()?,
            account: parts.next()?,
            resource: parts.next()?,
        };
        let complete =
            !arn.partition.is_empty() && !arn.service.is_empty() && !arn.resource.is_empty();
        complete.then_some(arn)
    }

    /// For an STS assumed-role ARN (`assumed-role/ROLE/SESSION`), the role and session.
    pub fn assumed_role(&self) -> Option<(&'a str, &'a str)> {
        if self.service != "sts" {
            return None;
        }
        let rest = self.resource.strip_prefix("assumed-role/")?;
        let (role, session) = rest.split_once('/')?;
        (!role.is_empty() && !session.is_empty()).then_some((role, session))
    }

    /// For an IAM role ARN (`role/PATH/NAME`), the role name without its path.
    pub fn iam_role(&self) -> Option<&'a str> {
        if self.service != "iam" {
            return None;
        }
        let rest = self.resource.strip_prefix("role/")?;
        rest.rsplit('/').next().filter(|name| !name.is_empty())
    }
}

/// `Some(text)` unless it is empty: ARN parts such as the region may be blank.
pub(super) fn non_empty(text: &str) -> Option<&str> {
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_six_parts_and_rejects_the_rest() {
        let arn = Arn::parse("arn:aws:s3:::bucket/key:with:colons").unwrap();
        assert_eq!(arn.service, "s3");
        assert_eq!(arn.account, "");
        assert_eq!(arn.resource, "bucket/key:with:colons");
        for bad in [
            "",
            "arn",
            "arn:aws:iam",
            "arn:aws:iam::123:",
            "urn:aws:iam::1:user/x",
            "arn::iam::1:x",
        ] {
            assert_eq!(Arn::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn splits_assumed_role_and_role_arns() {
        let arn =
            Arn::parse("arn:aws-cn:sts::111122223333:assumed-role/Deploy/ci@example.com").unwrap();
        assert_eq!(arn.assumed_role(), Some(("Deploy", "ci@example.com")));
        assert_eq!(arn.iam_role(), None);
        let role = Arn::parse("arn:aws:iam::111122223333:role/service-role/Deploy").unwrap();
        assert_eq!(role.iam_role(), Some("Deploy"));
        assert_eq!(role.assumed_role(), None);
        let user = Arn::parse("arn:aws:iam::111122223333:user/alice").unwrap();
        assert_eq!((user.iam_role(), user.assumed_role()), (None, None));
        let half = Arn::parse("arn:aws:sts::111122223333:assumed-role/Deploy").unwrap();
        assert_eq!(half.assumed_role(), None);
    }
}
