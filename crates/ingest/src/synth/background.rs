//! The everyday traffic of the organization: machines reading and writing S3, services
//! calling KMS, people describing things in the console and the CLI, AWS service events.
//!
//! By construction no background identity is shared: each workload session, IAM user
//! and console session is used by one actor from one address at a time, so that every
//! shared identity in a generated trail is one the scenarios injected.

use rand::Rng;
use rand::seq::IndexedRandom;

use crate::synth::catalog::{Api, weighted};
use crate::synth::clock::DAY;
use crate::synth::event::{Event, Identity, Session};
use crate::synth::ids;
use crate::synth::world::{Account, World, agents};

#[derive(Debug, Clone, Copy)]
enum Actor {
    Instance,
    Function,
    Automation,
    HumanCli,
    HumanConsole,
    ServiceLinkedRole,
    AwsService,
    ServiceEvent,
    CrossAccount,
    IdentityCenter,
    Federated,
}

const ACTORS: &[(u32, Actor)] = &[
    (300, Actor::Instance),
    (120, Actor::Function),
    (140, Actor::Automation),
    (60, Actor::HumanCli),
    (150, Actor::HumanConsole),
    (60, Actor::ServiceLinkedRole),
    (60, Actor::AwsService),
    (30, Actor::ServiceEvent),
    (25, Actor::CrossAccount),
    (10, Actor::IdentityCenter),
    (10, Actor::Federated),
];

const WORKLOAD_APIS: &[(u32, Api)] = &[
    (30, Api::GetObject),
    (14, Api::PutObject),
    (6, Api::HeadObject),
    (10, Api::Decrypt),
    (6, Api::GenerateDataKey),
    (10, Api::GetParameter),
    (4, Api::GetSecretValue),
    (4, Api::DescribeInstances),
    (6, Api::CreateLogStream),
    (3, Api::GetCallerIdentity),
];

const TERRAFORM_APIS: &[(u32, Api)] = &[
    (20, Api::DescribeInstances),
    (12, Api::DescribeSecurityGroups),
    (10, Api::DescribeVolumes),
    (8, Api::ListRoles),
    (6, Api::GetBucketPolicy),
    (4, Api::CreateTags),
    (2, Api::RunInstances),
    (4, Api::GetCallerIdentity),
];

const BACKUP_APIS: &[(u32, Api)] = &[
    (5, Api::ListBuckets),
    (40, Api::GetObject),
    (40, Api::PutObject),
    (10, Api::GenerateDataKey),
];

const METRICS_APIS: &[(u32, Api)] = &[
    (30, Api::GetMetricData),
    (10, Api::DescribeInstances),
    (5, Api::DescribeVolumes),
    (5, Api::DescribeLogGroups),
];

const HUMAN_CLI_APIS: &[(u32, Api)] = &[
    (20, Api::DescribeInstances),
    (10, Api::GetCallerIdentity),
    (10, Api::ListBuckets),
    (15, Api::GetObject),
    (8, Api::DescribeLogGroups),
    (5, Api::ListUsers),
    (5, Api::LookupEvents),
];

const CONSOLE_APIS: &[(u32, Api)] = &[
    (25, Api::DescribeInstances),
    (10, Api::DescribeSecurityGroups),
    (10, Api::DescribeVolumes),
    (10, Api::ListBuckets),
    (8, Api::GetBucketPolicy),
    (6, Api::ListUsers),
    (6, Api::ListRoles),
    (5, Api::DescribeTrails),
    (6, Api::LookupEvents),
    (8, Api::ListFunctions),
    (8, Api::DescribeLogGroups),
    (4, Api::GetMetricData),
];

/// One background record for an account and region at `time`.
pub fn event(world: &World, account: usize, region: &str, time: i64, rng: &mut impl Rng) -> Event {
    let acct = &world.accounts[account];
    let day = time.div_euclid(DAY);
    let event_id = ids::uuid(rng);
    let mut actor = weighted(rng, ACTORS);
    if matches!(actor, Actor::IdentityCenter) && account != 0 {
        actor = Actor::HumanConsole;
    }
    if matches!(actor, Actor::CrossAccount) && world.accounts.len() < 2 {
        actor = Actor::Instance;
    }
    let placeholder = Identity::AwsService {
        invoked_by: String::new(),
    };
    let mut ev = Event::api_call(time, &acct.id, region, placeholder, "", "", event_id);
    let place = Place {
        world,
        account,
        acct,
        time,
        day,
    };
    match actor {
        Actor::Instance | Actor::Function => workload(actor, &place, &mut ev, rng),
        Actor::Automation => automation(&place, &mut ev, rng),
        Actor::HumanCli => human_cli(&place, &mut ev, rng),
        Actor::HumanConsole => human_console(&place, &mut ev, rng),
        Actor::ServiceLinkedRole => service_linked_role(&place, &mut ev, rng),
        Actor::AwsService => aws_service(&place, &mut ev, rng),
        Actor::ServiceEvent => service_event(&place, &mut ev, rng),
        Actor::CrossAccount => cross_account(&place, &mut ev, rng),
        Actor::IdentityCenter => identity_center(&place, &mut ev, rng),
        Actor::Federated => federated(&place, &mut ev, rng),
    }
    ev
}

/// Where and when a background event happens.
#[derive(Clone, Copy)]
struct Place<'w> {
    world: &'w World,
    account: usize,
    acct: &'w Account,
    time: i64,
    day: i64,
}

/// A background event by a workload (an instance or a function).
fn workload(actor: Actor, place: &Place<'_>, ev: &mut Event, rng: &mut impl Rng) {
    let Place {
        world,
        account,
        acct,
        time,
        ..
    } = *place;
    let ec2 = matches!(actor, Actor::Instance);
    let candidates: Vec<usize> = (0..acct.workloads.len())
        .filter(|&w| (acct.workloads[w].service == "ec2.amazonaws.com") == ec2)
        .collect();
    let w = *candidates.choose(rng).unwrap();
    ev.identity = world.workload_session(account, w, time);
    ev.source_ip = acct.workloads[w].ip.clone();
    ev.user_agent = acct.workloads[w].agent.to_string();
    weighted(rng, WORKLOAD_APIS).apply(ev, acct, rng);
    // GetCallerIdentity needs no permission, so it is never denied
    // (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html).
    if rng.random_bool(0.01) && ev.name != "GetCallerIdentity" {
        ev.error = Some((
            "AccessDenied".into(),
            format!(
                "User: {} is not authorized to perform this action",
                ev.identity.arn().unwrap_or_default()
            ),
        ));
        ev.response_elements = None;
    }
}

/// A background event by `Automation`.
fn automation(place: &Place<'_>, ev: &mut Event, rng: &mut impl Rng) {
    let Place {
        world,
        account,
        acct,
        ..
    } = *place;
    let u = 3 + rng.random_range(0..3);
    let user = &acct.users[u];
    ev.identity = world.iam_user(account, u);
    ev.source_ip = user.ip.clone();
    ev.user_agent = user.agent.to_string();
    let table = match user.name.as_str() {
        "ci-deployer" => TERRAFORM_APIS,
        "backup-agent" => BACKUP_APIS,
        _ => METRICS_APIS,
    };
    weighted(rng, table).apply(ev, acct, rng);
}

/// A background event by `HumanCli`.
fn human_cli(place: &Place<'_>, ev: &mut Event, rng: &mut impl Rng) {
    let Place {
        world,
        account,
        acct,
        day,
        ..
    } = *place;
    let u = rng.random_range(0..3);
    let human = &world.humans[acct.users[u].human.unwrap_or(0)];
    ev.identity = world.iam_user(account, u);
    ev.source_ip = human.ip_on(world.seed, day).to_string();
    ev.user_agent = human.cli_agent.to_string();
    weighted(rng, HUMAN_CLI_APIS).apply(ev, acct, rng);
    if rng.random_bool(0.04) && ev.name != "GetCallerIdentity" {
        ev.error = Some((
            "AccessDenied".into(),
            format!(
                "User: {} is not authorized to perform: {}",
                ev.identity.arn().unwrap_or_default(),
                ev.name
            ),
        ));
        ev.response_elements = None;
    }
}

/// A background event by `HumanConsole`.
fn human_console(place: &Place<'_>, ev: &mut Event, rng: &mut impl Rng) {
    let Place {
        world,
        account,
        acct,
        day,
        ..
    } = *place;
    let humans: Vec<usize> = world.humans_of(account).collect();
    let h = *humans.choose(rng).unwrap();
    let human = &world.humans[h];
    ev.identity = world.sso_session(account, h, day);
    ev.source_ip = human.ip_on(world.seed, day).to_string();
    ev.user_agent = human.browser.to_string();
    ev.console_session = true;
    weighted(rng, CONSOLE_APIS).apply(ev, acct, rng);
}

/// A background event by `ServiceLinkedRole`.
fn service_linked_role(place: &Place<'_>, ev: &mut Event, rng: &mut impl Rng) {
    let Place {
        world, acct, day, ..
    } = *place;
    let mut key_rng = ids::rng_for(world.seed, &format!("config:{}", acct.id), day as u64);
    ev.identity = Identity::AssumedRole {
        account: acct.id.clone(),
        role_name: "AWSServiceRoleForConfig".into(),
        role_id: format!("AROA{}", &acct.sso_role.id[4..]),
        session_name: "AWSConfig-Describe".into(),
        access_key: ids::iam_id(&mut key_rng, "ASIA"),
        session: Session::new(day * DAY),
        invoked_by: Some("config.amazonaws.com".into()),
    };
    ev.source_ip = "config.amazonaws.com".into();
    ev.user_agent = "config.amazonaws.com".into();
    [
        Api::DescribeInstances,
        Api::DescribeSecurityGroups,
        Api::DescribeVolumes,
    ]
    .choose(rng)
    .unwrap()
    .apply(ev, acct, rng);
    ev.tls = false;
}

/// A background event by `AwsService`.
fn aws_service(place: &Place<'_>, ev: &mut Event, rng: &mut impl Rng) {
    let Place { acct, .. } = *place;
    let service = *[
        "cloudtrail.amazonaws.com",
        "s3.amazonaws.com",
        "logs.amazonaws.com",
    ]
    .choose(rng)
    .unwrap();
    ev.identity = Identity::AwsService {
        invoked_by: service.into(),
    };
    ev.source_ip = service.into();
    ev.user_agent = service.into();
    let api = if service == "s3.amazonaws.com" {
        Api::GenerateDataKey
    } else {
        Api::Decrypt
    };
    api.apply(ev, acct, rng);
    ev.tls = false;
}

/// A background event by `ServiceEvent`.
fn service_event(place: &Place<'_>, ev: &mut Event, rng: &mut impl Rng) {
    let Place { acct, .. } = *place;
    ev.identity = Identity::ServiceEvent {
        account: acct.id.clone(),
        invoked_by: "AWS Internal".into(),
    };
    ev.event_type = "AwsServiceEvent";
    ev.source_ip = "AWS Internal".into();
    ev.user_agent = "AWS Internal".into();
    ev.tls = false;
    ev.read_only = Some(false);
    if rng.random_bool(0.5) {
        ev.source = "kms.amazonaws.com";
        ev.name = "RotateKey";
        ev.resources = vec![crate::synth::event::Resource {
            arn: acct.kms_key.clone(),
            account: Some(acct.id.clone()),
            kind: "AWS::KMS::Key",
        }];
    } else {
        ev.source = "backup.amazonaws.com";
        ev.name = "BackupJobCompleted";
        ev.service_event_details = Some(format!(
            r#"{{"backupJobId":"{}","backupVaultName":"Default","resourceType":"EBS","state":"COMPLETED","backupSizeInBytes":{}}}"#,
            ids::uuid(rng),
            rng.random_range(1u64 << 30..1u64 << 36)
        ));
    }
    ev.request_id = None;
}

/// A background event by `CrossAccount`.
fn cross_account(place: &Place<'_>, ev: &mut Event, rng: &mut impl Rng) {
    let Place {
        world,
        account,
        acct,
        ..
    } = *place;
    let mut other = rng.random_range(0..world.accounts.len() - 1);
    if other >= account {
        other += 1;
    }
    let them = &world.accounts[other];
    ev.identity = Identity::AwsAccount {
        account: them.id.clone(),
        principal_id: format!(
            "{}:{}",
            them.workloads[0].role.id, them.workloads[0].session_name
        ),
    };
    ev.source_ip = them.workloads[0].ip.clone();
    ev.user_agent = agents::JAVA.into();
    Api::GetObject.apply(ev, acct, rng);
}

/// A background event by `IdentityCenter`.
fn identity_center(place: &Place<'_>, ev: &mut Event, rng: &mut impl Rng) {
    let Place {
        world, acct, day, ..
    } = *place;
    let h = rng.random_range(0..world.humans.len());
    let human = &world.humans[h];
    let mut cred_rng = ids::rng_for(world.seed, &format!("idc:{}", human.email), day as u64);
    ev.identity = Identity::IdentityCenterUser {
        account: acct.id.clone(),
        user_id: human.idc_user_id.clone(),
        identity_store_arn: world.identity_store_arn.clone(),
        credential_id: ids::alnum(&mut cred_rng, 60),
    };
    ev.source = "sso.amazonaws.com";
    ev.name = *["ListAccounts", "ListAccountRoles", "ListApplications"]
        .choose(rng)
        .unwrap();
    ev.read_only = Some(true);
    ev.source_ip = human.ip_on(world.seed, day).to_string();
    ev.user_agent = human.browser.to_string();
    ev.region = world.regions[0].clone();
}

/// A background event by `Federated`.
fn federated(place: &Place<'_>, ev: &mut Event, rng: &mut impl Rng) {
    let Place {
        world, acct, day, ..
    } = *place;
    let mut key_rng = ids::rng_for(world.seed, &format!("fed:{}", acct.id), day as u64);
    let broker = &acct.users[3];
    ev.identity = Identity::FederatedUser {
        account: acct.id.clone(),
        name: "partner-upload".into(),
        issuer_user: broker.name.clone(),
        issuer_id: broker.user_id.clone(),
        access_key: ids::iam_id(&mut key_rng, "ASIA"),
        session: Session::new(day * DAY),
    };
    ev.source_ip = broker.ip.clone();
    ev.user_agent = agents::BOTO3.into();
    Api::PutObject.apply(ev, acct, rng);
}
