//! Workloads as AWS runs them, and what sharing looks like beside them: an instance that
//! reaches some services through a VPC endpoint and the rest through its NAT, a Lambda
//! function's concurrent execution environments, an ECS task; a person whose proxy hands
//! out many addresses of one network; a key used round robin by four machines; and an
//! instance's credentials stolen and used from a laptop.

use super::{Builder, role_session};
use crate::synth::catalog::Api;
use crate::synth::event::{Event, Identity};
use crate::synth::world::agents;

/// A Lambda execution environment's agent (Python runtime).
const LAMBDA_PYTHON: &str = "Boto3/1.34.144 md/Botocore#1.34.144 ua/2.0 os/linux#5.10.219-229.866.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.4 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.34.144";
/// An ECS Fargate task's agent.
const ECS_GO: &str = "aws-sdk-go-v2/1.30.3 ua/2.0 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 exec-env/AWS_ECS_FARGATE api/sqs#1.34.3";

/// One call of a workload or machine: an API at a time, from an address and agent.
struct Call<'a> {
    time: i64,
    api: Api,
    ip: &'a str,
    agent: &'a str,
    vpc_endpoint: Option<&'a str>,
}

impl Builder<'_> {
    fn emit_call(&mut self, account: usize, identity: &Identity, call: &Call<'_>) -> String {
        let mut ev = self.call(account, call.time, identity.clone(), "", "");
        ev.source_ip = call.ip.to_string();
        ev.user_agent = call.agent.to_string();
        ev.vpc_endpoint_id = call.vpc_endpoint.map(str::to_string);
        let world = self.world;
        call.api
            .apply(&mut ev, &world.accounts[account], &mut self.rng);
        self.emit(account, ev)
    }

    /// A workload's session, issued by an AssumeRole of `service` (as AWS logs it: an
    /// `AWSService` caller, the role and session name in `requestParameters`).
    fn service_session(
        &mut self,
        account: usize,
        service: &'static str,
        role: &str,
        session_name: &str,
        time: i64,
    ) -> Identity {
        let acct = self.account_id(account);
        let role_id = self.fresh_key("AROA");
        let key = self.fresh_key("ASIA");
        let identity = role_session(&acct, role, &role_id, session_name, &key, time, None);
        let mut ev: Event = self.call(
            account,
            time,
            Identity::AwsService {
                invoked_by: service.to_string(),
            },
            "sts.amazonaws.com",
            "AssumeRole",
        );
        ev.source_ip = service.to_string();
        ev.user_agent = service.to_string();
        ev.read_only = Some(true);
        ev.request_parameters = Some(format!(
            r#"{{"roleArn":"arn:aws:iam::{acct}:role/{role}","roleSessionName":"{session_name}"}}"#
        ));
        ev.tls = false;
        self.emit(account, ev);
        identity
    }
}

pub(super) fn inject(b: &mut Builder<'_>) {
    let a = b.member(2);
    let day = b.mid_day();

    // An instance behind a VPC endpoint: S3, KMS, SSM and Secrets Manager from its private
    // address, EC2 and CloudWatch through its NAT, in turn, every two minutes for 90 min.
    let t = b.at(day, 6, 0);
    let instance = b.service_session(a, "ec2.amazonaws.com", "web-tier", "i-0c4f5e6a7b8c9d0e1", t);
    let nat = b.fresh_ip();
    let private = "10.20.31.42".to_string();
    let endpoint = "vpce-0a1b2c3d4e5f67890";
    let private_apis = [
        Api::GetObject,
        Api::Decrypt,
        Api::GetParameter,
        Api::GetSecretValue,
    ];
    let mut ids = Vec::new();
    for i in 0..45 {
        let call = if i % 2 == 0 {
            Call {
                time: t + 60 + i * 120,
                api: private_apis[(i as usize / 2) % 4],
                ip: &private,
                agent: agents::JAVA,
                vpc_endpoint: Some(endpoint),
            }
        } else {
            Call {
                time: t + 60 + i * 120,
                api: Api::DescribeInstances,
                ip: &nat,
                agent: agents::JAVA,
                vpc_endpoint: None,
            }
        };
        ids.push(b.emit_call(a, &instance, &call));
    }
    // Later, the instance's own aws-cli (a user-data script) through the same NAT.
    for i in 0..4 {
        let call = Call {
            time: t + 100 * 60 + i * 60,
            api: Api::GetParameter,
            ip: &nat,
            agent: agents::CLI,
            vpc_endpoint: None,
        };
        ids.push(b.emit_call(a, &instance, &call));
    }
    let instance_arn = instance.arn().unwrap_or_default();
    b.push_not_shared(
        "instance_behind_vpc_endpoint",
        "role_session",
        &instance_arn,
        a,
        "one instance: a VPC endpoint's private address and the NAT's, in turn, all day",
        ids,
    );

    // A Lambda function running in three execution environments at once.
    let t = b.at(day, 7, 0);
    let function = b.service_session(
        a,
        "lambda.amazonaws.com",
        "thumbnailer-role",
        "thumbnailer",
        t,
    );
    let environments = [b.fresh_ip(), b.fresh_ip(), b.fresh_ip()];
    let ids = (0..36)
        .map(|i| {
            let call = Call {
                time: t + 30 + i * 50,
                api: [Api::GetObject, Api::PutObject][i as usize % 2],
                ip: &environments[i as usize % 3],
                agent: LAMBDA_PYTHON,
                vpc_endpoint: None,
            };
            b.emit_call(a, &function, &call)
        })
        .collect();
    b.push_not_shared(
        "lambda_concurrency",
        "role_session",
        &function.arn().unwrap_or_default(),
        a,
        "one function: each concurrent execution environment has its own address",
        ids,
    );

    // An ECS task: its ENI's address and a VPC endpoint in turn.
    let t = b.at(day, 8, 0);
    let task = b.service_session(
        a,
        "ecs-tasks.amazonaws.com",
        "orders-task-role",
        "8f2c9e4b7a1d4c3e9b6a5f0d2e1c7b4a",
        t,
    );
    let eni = b.fresh_ip();
    let ids = (0..24)
        .map(|i| {
            let call = Call {
                time: t + 30 + i * 90,
                api: [Api::GetObject, Api::DescribeLogGroups][i as usize % 2],
                ip: if i % 2 == 0 { "10.20.40.17" } else { &eni },
                agent: ECS_GO,
                vpc_endpoint: (i % 2 == 0).then_some("vpce-0fedcba987654321f"),
            };
            b.emit_call(a, &task, &call)
        })
        .collect();
    b.push_not_shared(
        "ecs_task",
        "role_session",
        &task.arn().unwrap_or_default(),
        a,
        "one task: a VPC endpoint's private address and its own, in turn",
        ids,
    );

    // One person behind a corporate proxy whose exits are many addresses of one /24.
    let key = b.fresh_key("AKIA");
    let person = super::shared::iam_user(b, a, "proxy-user", Some(key.clone()), None);
    let t = b.at(day, 9, 0);
    let network = b.fresh_ip();
    let prefix = network
        .rsplit_once('.')
        .map_or("203.0.113", |(p, _)| p)
        .to_string();
    let exits: Vec<String> = (0..6).map(|i| format!("{prefix}.{}", 10 + i * 7)).collect();
    let ids = (0..30)
        .map(|i| {
            let call = Call {
                time: t + i * 100,
                api: [Api::ListBuckets, Api::DescribeInstances, Api::ListRoles][i as usize % 3],
                ip: &exits[(i as usize * 5) % exits.len()],
                agent: agents::CLI_MAC,
                vpc_endpoint: None,
            };
            b.emit_call(a, &person, &call)
        })
        .collect();
    b.push_not_shared(
        "one_person_address_pool",
        "access_key",
        &key,
        a,
        "one person: a proxy's exits, all in one /24",
        ids,
    );

    // A key four machines use round robin, A B C D A B C D, every two minutes.
    let key = b.fresh_key("AKIA");
    let shared = super::shared::iam_user(b, a, "batch-runner", Some(key.clone()), None);
    let t = b.at(day, 13, 0);
    let machines = [b.fresh_ip(), b.fresh_ip(), b.fresh_ip(), b.fresh_ip()];
    let machine_agents = [agents::BOTO3, agents::GO, agents::JAVA, agents::TERRAFORM];
    let ids = (0..32)
        .map(|i| {
            let call = Call {
                time: t + i * 120,
                api: [Api::ListBuckets, Api::GetObject, Api::DescribeInstances][i as usize % 3],
                ip: &machines[i as usize % 4],
                agent: machine_agents[i as usize % 4],
                vpc_endpoint: None,
            };
            b.emit_call(a, &shared, &call)
        })
        .collect();
    b.push_shared(
        "access_key_round_robin",
        "access_key",
        &key,
        a,
        &machines,
        (t, t + 31 * 120),
        ids,
    );

    // An instance's credentials taken (through the metadata service) and used from a laptop.
    let t = b.at(day, 15, 0);
    let victim = b.service_session(a, "ec2.amazonaws.com", "app-tier", "i-0d1e2f3a4b5c6d7e8", t);
    let victim_nat = b.fresh_ip();
    let mut own = Vec::new();
    for i in 0..20 {
        let call = Call {
            time: t + 60 + i * 180,
            api: [Api::GetObject, Api::DescribeInstances][i as usize % 2],
            ip: &victim_nat,
            agent: agents::JAVA,
            vpc_endpoint: None,
        };
        own.push(b.emit_call(a, &victim, &call));
    }
    let laptop = b.fresh_ip();
    let stolen: Vec<String> = [
        Api::GetCallerIdentity,
        Api::ListBuckets,
        Api::ListUsers,
        Api::ListRoles,
    ]
    .into_iter()
    .enumerate()
    .map(|(i, api)| {
        let call = Call {
            time: t + 40 * 60 + i as i64 * 45,
            api,
            ip: &laptop,
            agent: agents::CLI_MAC,
            vpc_endpoint: None,
        };
        b.emit_call(a, &victim, &call)
    })
    .collect();
    let victim_arn = victim.arn().unwrap_or_default();
    b.push_shared(
        "instance_credentials_stolen",
        "workload_session",
        &victim_arn,
        a,
        std::slice::from_ref(&laptop),
        (t + 40 * 60, t + 40 * 60 + 3 * 45),
        stolen,
    );
}
