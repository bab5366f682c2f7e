//! The simulated organization behind a trail: accounts, people, machines, roles and the
//! networks they work from. Everything is derived from the seed.

use rand::Rng;
use rand::seq::IndexedRandom;

use crate::synth::clock::DAY;
use crate::synth::event::{Identity, Session};
use crate::synth::ids::{self, rng_for};

/// Command-line and SDK user agents, by family, as real trails show them.
pub mod agents {
    pub const CLI: &str = "aws-cli/2.17.20 md/awscrt#0.20.11 ua/2.0 os/linux#6.5.0-1022-aws md/arch#x86_64 lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.22 md/prompt#off md/command#ec2.describe-instances";
    pub const CLI_MAC: &str = "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/macos#23.4.0 md/arch#arm64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#source md/prompt#off md/command#s3.ls";
    pub const BOTO3: &str = "Boto3/1.34.144 md/Botocore#1.34.144 ua/2.0 os/linux#5.10.220-209.869.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.4 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.144";
    pub const TERRAFORM: &str = "APN/1.0 HashiCorp/1.0 Terraform/1.9.2 (+https://www.terraform.io) terraform-provider-aws/5.59.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.30.3 ua/2.0 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.171.0";
    pub const JAVA: &str = "aws-sdk-java/2.26.20 Linux/5.10.219-208.866.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.11+9-LTS Java/17.0.11 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy";
    pub const GO: &str = "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/cloudwatch#1.40.3";
    pub const NODE: &str = "aws-sdk-js/3.614.0 ua/2.0 os/linux#5.10.219-229.866.amzn2.x86_64 lang/js md/nodejs#20.15.0 api/s3#3.614.0 exec-env/AWS_Lambda_nodejs20.x";
    pub const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
    pub const SAFARI: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15";
    pub const FIREFOX: &str =
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
}

/// First names for the simulated people (the scenarios use their own).
const PEOPLE: &[&str] = &[
    "amara", "bjorn", "chen", "dalia", "emeka", "farah", "goran", "hana", "ines", "jonas", "kofi",
    "lena",
];

/// A person: IAM users in some accounts, and an Identity Center user everywhere.
#[derive(Debug, Clone)]
pub struct Human {
    pub name: String,
    pub email: String,
    pub idc_user_id: String,
    /// Home and office addresses; each day is spent at one of them.
    pub ips: [String; 2],
    pub cli_agent: &'static str,
    pub browser: &'static str,
}

impl Human {
    /// Where this person works from on `day`.
    pub fn ip_on(&self, seed: u64, day: i64) -> &str {
        let pick = ids::derive(seed, &self.name, day as u64) % 2;
        &self.ips[pick as usize]
    }
}

/// An IAM user with a long-term access key.
#[derive(Debug, Clone)]
pub struct IamUser {
    pub name: String,
    pub user_id: String,
    pub access_key: String,
    /// Index into `World::humans` for people, `None` for automation.
    pub human: Option<usize>,
    /// Fixed address and agent of automation users.
    pub ip: String,
    pub agent: &'static str,
}

/// A role with its unique id.
#[derive(Debug, Clone)]
pub struct Role {
    pub name: String,
    pub id: String,
}

/// A machine or function that works through a role session.
#[derive(Debug, Clone)]
pub struct Workload {
    /// The session name: an instance id or a function name.
    pub session_name: String,
    pub role: Role,
    pub ip: String,
    pub agent: &'static str,
    /// How long each session's credentials live before the next AssumeRole.
    pub session_secs: i64,
    /// The service principal that assumes the role (`ec2.amazonaws.com`, ...).
    pub service: &'static str,
}

/// One account of the organization.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub users: Vec<IamUser>,
    pub workloads: Vec<Workload>,
    pub sso_role: Role,
    pub buckets: Vec<String>,
    pub kms_key: String,
}

/// The organization.
#[derive(Debug, Clone)]
pub struct World {
    pub seed: u64,
    pub org_id: String,
    pub accounts: Vec<Account>,
    pub regions: Vec<String>,
    pub humans: Vec<Human>,
    pub identity_store_arn: String,
    /// Name of the SAML provider Identity Center creates in every account.
    pub sso_provider_name: String,
    pub start: i64,
    pub days: i64,
}

/// Regions in order of how busy a typical organization keeps them.
pub const ALL_REGIONS: &[&str] = &[
    "us-east-1",
    "eu-west-1",
    "us-west-2",
    "eu-central-1",
    "ap-southeast-2",
    "us-east-2",
    "ap-northeast-1",
    "eu-north-1",
    "ca-central-1",
    "sa-east-1",
    "ap-south-1",
    "eu-west-2",
];

const ACCOUNT_NAMES: &[&str] = &[
    "management",
    "production",
    "staging",
    "security",
    "data",
    "sandbox",
    "shared-services",
    "logging",
];

/// A public-looking IPv4 address.
pub fn random_public_ip(rng: &mut impl Rng) -> String {
    // Documentation-style ranges are avoided so that CIDR tests look real; these are
    // arbitrary public-looking addresses.
    const FIRST: &[u8] = &[23, 34, 52, 63, 81, 91, 104, 151, 178, 185, 203, 212];
    format!(
        "{}.{}.{}.{}",
        FIRST.choose(rng).unwrap(),
        rng.random_range(1..255),
        rng.random_range(0..255),
        rng.random_range(1..255)
    )
}

fn role(rng: &mut impl Rng, name: String) -> Role {
    Role {
        name,
        id: ids::iam_id(rng, "AROA"),
    }
}

impl World {
    pub fn new(seed: u64, accounts: usize, regions: usize, start: i64, days: i64) -> World {
        let mut rng = rng_for(seed, "world", 0);
        let org_id = format!("o-{}", ids::alnum(&mut rng, 10).to_ascii_lowercase());
        let store = format!("d-{}", ids::hex(&mut rng, 10));
        let humans: Vec<Human> = PEOPLE
            .iter()
            .enumerate()
            .map(|(i, name)| Human {
                name: name.to_string(),
                email: format!("{name}@example.com"),
                idc_user_id: ids::uuid(&mut rng),
                ips: [random_public_ip(&mut rng), random_public_ip(&mut rng)],
                cli_agent: [agents::CLI, agents::CLI_MAC, agents::BOTO3][i % 3],
                browser: [agents::CHROME, agents::SAFARI, agents::FIREFOX][i % 3],
            })
            .collect();
        let mut account_list = Vec::with_capacity(accounts);
        for a in 0..accounts {
            let id = format!(
                "{:012}",
                100_000_000_000 + rng.random_range(0..899_999_999_999u64)
            );
            let name = ACCOUNT_NAMES
                .get(a)
                .map(|n| n.to_string())
                .unwrap_or_else(|| format!("workload-{a}"));
            let mut users = Vec::new();
            for h in 0..3 {
                let human = (a * 3 + h) % humans.len();
                users.push(IamUser {
                    name: humans[human].name.clone(),
                    user_id: ids::iam_id(&mut rng, "AIDA"),
                    access_key: ids::iam_id(&mut rng, "AKIA"),
                    human: Some(human),
                    ip: String::new(),
                    agent: humans[human].cli_agent,
                });
            }
            for (name, agent) in [
                ("ci-deployer", agents::TERRAFORM),
                ("backup-agent", agents::BOTO3),
                ("metrics-exporter", agents::GO),
            ] {
                users.push(IamUser {
                    name: name.to_string(),
                    user_id: ids::iam_id(&mut rng, "AIDA"),
                    access_key: ids::iam_id(&mut rng, "AKIA"),
                    human: None,
                    ip: random_public_ip(&mut rng),
                    agent,
                });
            }
            let app_role = role(&mut rng, format!("{name}-app-server"));
            let mut workloads = Vec::new();
            for _ in 0..4 {
                workloads.push(Workload {
                    session_name: format!("i-0{}", ids::hex(&mut rng, 16)),
                    role: app_role.clone(),
                    ip: random_public_ip(&mut rng),
                    agent: agents::JAVA,
                    session_secs: 6 * 3600,
                    service: "ec2.amazonaws.com",
                });
            }
            for function in ["thumbnailer", "order-events", "nightly-report"] {
                workloads.push(Workload {
                    session_name: format!("{name}-{function}"),
                    role: role(&mut rng, format!("{name}-{function}-role")),
                    ip: random_public_ip(&mut rng),
                    agent: agents::NODE,
                    session_secs: DAY,
                    service: "lambda.amazonaws.com",
                });
            }
            let buckets = vec![
                format!("{name}-assets-{id}"),
                format!("{name}-uploads-{id}"),
                format!("{name}-backups-{id}"),
            ];
            let kms_key = format!("arn:aws:kms:us-east-1:{id}:key/{}", ids::uuid(&mut rng));
            let sso_name = format!(
                "AWSReservedSSO_AdministratorAccess_{}",
                ids::hex(&mut rng, 16)
            );
            let sso_role = role(&mut rng, sso_name);
            account_list.push(Account {
                id,
                name,
                users,
                workloads,
                sso_role,
                buckets,
                kms_key,
            });
        }
        // The identity store lives in the management account.
        let identity_store_arn = format!(
            "arn:aws:identitystore::{}:identitystore/{store}",
            account_list[0].id
        );
        let sso_provider_name = format!("AWSSSO_{}_DO_NOT_DELETE", ids::hex(&mut rng, 16));
        World {
            seed,
            org_id,
            accounts: account_list,
            regions: ALL_REGIONS[..regions]
                .iter()
                .map(|r| r.to_string())
                .collect(),
            humans,
            identity_store_arn,
            sso_provider_name,
            start,
            days,
        }
    }

    /// The Identity Center SAML provider's ARN in an account.
    pub fn sso_provider(&self, account: usize) -> String {
        format!(
            "arn:aws:iam::{}:saml-provider/{}",
            self.accounts[account].id, self.sso_provider_name
        )
    }

    pub fn end(&self) -> i64 {
        self.start + self.days * DAY
    }

    /// The session a workload is in at `time`: its credentials rotate every
    /// `session_secs`, each rotation an AssumeRole by the workload's service.
    pub fn workload_session(&self, account: usize, workload: usize, time: i64) -> Identity {
        let acct = &self.accounts[account];
        let w = &acct.workloads[workload];
        let slot = time.div_euclid(w.session_secs);
        let mut rng = rng_for(self.seed, &w.session_name, slot as u64);
        Identity::AssumedRole {
            account: acct.id.clone(),
            role_name: w.role.name.clone(),
            role_id: w.role.id.clone(),
            session_name: w.session_name.clone(),
            access_key: ids::iam_id(&mut rng, "ASIA"),
            session: Session::new(slot * w.session_secs),
            invoked_by: None,
        }
    }

    /// A person's Identity Center console session in an account on a day.
    pub fn sso_session(&self, account: usize, human: usize, day: i64) -> Identity {
        let acct = &self.accounts[account];
        let h = &self.humans[human];
        let mut rng = rng_for(
            self.seed,
            &format!("sso:{}:{}", h.email, acct.id),
            day as u64,
        );
        Identity::AssumedRole {
            account: acct.id.clone(),
            role_name: acct.sso_role.name.clone(),
            role_id: acct.sso_role.id.clone(),
            session_name: h.email.clone(),
            access_key: ids::iam_id(&mut rng, "ASIA"),
            session: Session::new(day * DAY),
            invoked_by: None,
        }
    }

    /// The IAM user identity signing with its long-term key.
    pub fn iam_user(&self, account: usize, user: usize) -> Identity {
        let acct = &self.accounts[account];
        let u = &acct.users[user];
        Identity::IamUser {
            account: acct.id.clone(),
            user_name: u.name.clone(),
            principal_id: u.user_id.clone(),
            access_key: Some(u.access_key.clone()),
            session: None,
            invoked_by: None,
        }
    }

    /// Which people have console sessions in the account (those with IAM users there).
    pub fn humans_of(&self, account: usize) -> impl Iterator<Item = usize> + '_ {
        self.accounts[account].users.iter().filter_map(|u| u.human)
    }
}
