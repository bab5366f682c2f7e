//! `user_agent_platform(user_agent)`: the operating system a client runs on.

use super::{FunctionDoc, map_to_string};

/// Documentation; its example is checked by the tests in `udf`.
pub(super) const DOC: FunctionDoc = FunctionDoc {
    name: "user_agent_platform",
    usage: "user_agent_platform(user_agent)",
    description: "The platform named in a `userAgent`: macos, windows, linux, android, ios, \
                  lambda (an AWS Lambda execution environment), ecs (an ECS task), \
                  aws-service, or other. With `user_agent_family`, the client stack that \
                  tells a laptop from a workload. NULL for NULL.",
    example: "user_agent_platform('aws-cli/2.15.0 Python/3.11.6 Darwin/23.1.0 exe/x86_64')",
    result: "macos",
};

string_function!(
    UserAgentPlatform,
    arity = 1,
    returns = arrow::datatypes::DataType::Utf8,
    invoke = |args| map_to_string(args, |text| Some(platform(text)))
);

/// The platform of one user agent. AWS's own execution environments come first: their
/// agents name Linux too.
pub fn platform(agent: &str) -> &'static str {
    let lower = agent.to_ascii_lowercase();
    if lower.contains("exec-env/aws_lambda") || lower.contains("awslambda") {
        return "lambda";
    }
    if lower.contains("exec-env/aws_ecs") {
        return "ecs";
    }
    if lower.contains("android") {
        return "android";
    }
    if lower.contains("iphone") || lower.contains("ipad") || lower.contains("os/ios") {
        return "ios";
    }
    if lower.contains("darwin") || lower.contains("macintosh") || lower.contains("os/macos") {
        return "macos";
    }
    if lower.contains("windows") || lower.contains("os/win") {
        return "windows";
    }
    if lower.contains("linux") {
        return "linux";
    }
    if super::user_agent_family::is_aws_service(&lower) {
        return "aws-service";
    }
    "other"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_of_real_agents() {
        let cases = [
            (
                "aws-cli/2.15.0 Python/3.11.6 Darwin/23.1.0 exe/x86_64",
                "macos",
            ),
            (
                "[aws-cli/1.18.136 Python/3.8.5 Darwin/19.5.0 botocore/1.17.59]",
                "macos",
            ),
            (
                "aws-cli/2.13.0 Python/3.11.4 Windows/10 exe/AMD64 prompt/off",
                "windows",
            ),
            (
                "Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#5.10 lang/python#3.12",
                "linux",
            ),
            (
                "Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#5.10 exec-env/AWS_Lambda_python3.12",
                "lambda",
            ),
            ("awslambda-worker", "lambda"),
            (
                "aws-sdk-go-v2/1.2 os/linux lang/go#1.21 exec-env/AWS_ECS_FARGATE",
                "ecs",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36",
                "macos",
            ),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "windows"),
            ("AWS Internal", "aws-service"),
            ("ec2.amazonaws.com", "aws-service"),
            ("curl/8.0", "other"),
        ];
        for (agent, expected) in cases {
            assert_eq!(platform(agent), expected, "{agent}");
        }
    }
}
