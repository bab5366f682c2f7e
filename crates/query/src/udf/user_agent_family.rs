//! `user_agent_family(user_agent)`: the kind of client behind a user agent.

use super::{FunctionDoc, map_to_string};

/// Documentation; its example is checked by the tests in `udf`.
pub(super) const DOC: FunctionDoc = FunctionDoc {
    name: "user_agent_family",
    usage: "user_agent_family(user_agent)",
    description: "The client family of a `userAgent`: console, aws-cli, boto3, sdk-java, sdk-go, \
                  sdk-js, sdk-dotnet, sdk-ruby, sdk-php, sdk-rust, sdk-cpp, sdk-kotlin, \
                  sdk-swift, sdk-powershell, terraform, cloudformation, aws-service or other. \
                  NULL for NULL.",
    example: "user_agent_family('[aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64 prompt/off]')",
    result: "aws-cli",
};

string_function!(
    UserAgentFamily,
    arity = 1,
    returns = arrow::datatypes::DataType::Utf8,
    invoke = |args| map_to_string(args, |text| Some(family(text)))
);

/// SDK user-agent prefixes and their families, checked in order (`aws-sdk-go-v2` before
/// `aws-sdk-go` does not matter: both are Go).
const SDKS: [(&str, &str); 11] = [
    ("aws-sdk-java", "sdk-java"),
    ("aws-sdk-go", "sdk-go"),
    ("aws-sdk-js", "sdk-js"),
    ("aws-sdk-nodejs", "sdk-js"),
    ("aws-sdk-dotnet", "sdk-dotnet"),
    ("aws-sdk-ruby", "sdk-ruby"),
    ("aws-sdk-php", "sdk-php"),
    ("aws-sdk-rust", "sdk-rust"),
    ("aws-sdk-cpp", "sdk-cpp"),
    ("aws-sdk-kotlin", "sdk-kotlin"),
    ("aws-sdk-swift", "sdk-swift"),
];

/// The family of one user agent. Order matters: tools embed the SDK they are built on
/// (Terraform's agent names aws-sdk-go, the AWS CLI's names botocore), and the console's
/// back end names the Java SDK, so the more specific client is checked first.
pub fn family(agent: &str) -> &'static str {
    let agent = agent.trim().trim_start_matches('[').trim_end_matches(']');
    let lower = agent.to_ascii_lowercase();
    let console = lower.starts_with("mozilla/")
        || lower.starts_with("console.")
        || lower == "signin.amazonaws.com"
        || lower.contains("consolefrontend")
        || lower.contains("console/");
    if console {
        return "console";
    }
    if lower.contains("cloudformation") {
        return "cloudformation";
    }
    if lower.contains("terraform") {
        return "terraform";
    }
    if lower.contains("aws-cli/") {
        return "aws-cli";
    }
    if lower.contains("boto3/") || lower.contains("botocore/") {
        return "boto3";
    }
    if lower.contains("awspowershell") || lower.contains("aws-tools-for-powershell") {
        return "sdk-powershell";
    }
    if let Some((_, family)) = SDKS.iter().find(|(prefix, _)| lower.contains(prefix)) {
        return family;
    }
    if is_aws_service(&lower) {
        return "aws-service";
    }
    "other"
}

/// Whether the lowercased agent is an AWS service's own (`AWS Internal`, a service host).
pub(super) fn is_aws_service(lower: &str) -> bool {
    lower == "aws internal"
        || lower.ends_with(".amazonaws.com")
        || lower.starts_with("aws-internal")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_of_real_agents() {
        let cases = [
            ("console.ec2.amazonaws.com", "console"),
            ("signin.amazonaws.com", "console"),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_6) AppleWebKit/537.36",
                "console",
            ),
            (
                "EC2ConsoleFrontend, aws-internal/3 aws-sdk-java/1.11.848 Linux/4.9",
                "console",
            ),
            (
                "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.488]",
                "console",
            ),
            (
                "[aws-cli/1.18.136 Python/3.8.5 Darwin/19.5.0 botocore/1.17.59]",
                "aws-cli",
            ),
            (
                "aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64 prompt/off",
                "aws-cli",
            ),
            ("Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux", "boto3"),
            ("botocore/1.31.0 Python/3.11", "boto3"),
            (
                "APN/1.0 HashiCorp/1.0 Terraform/1.6.0 (+https://www.terraform.io) terraform-provider-aws/5.0 aws-sdk-go-v2/1.2",
                "terraform",
            ),
            ("cloudformation.amazonaws.com", "cloudformation"),
            ("aws-sdk-go-v2/1.32.3 os/linux lang/go#1.23.1", "sdk-go"),
            (
                "aws-sdk-java/2.20.0 Linux/5.10 OpenJDK_64-Bit_Server_VM",
                "sdk-java",
            ),
            ("aws-sdk-js/3.400.0 ua/2.0 os/linux lang/js", "sdk-js"),
            ("AWSPowerShell/4.1.0 .NET_Runtime/4.0", "sdk-powershell"),
            ("ec2.amazonaws.com", "aws-service"),
            ("AWS Internal", "aws-service"),
            ("stratus-red-team_ea782787", "other"),
            ("", "other"),
        ];
        for (agent, expected) in cases {
            assert_eq!(family(agent), expected, "{agent}");
        }
    }
}
