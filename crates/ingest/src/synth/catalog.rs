//! The API calls of the background traffic, with request parameters, responses and
//! resources shaped like those real trails carry.

use rand::Rng;
use rand::seq::IndexedRandom;

use crate::synth::event::{Event, Resource};
use crate::synth::ids;
use crate::synth::world::Account;

/// An API call the background can make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    DescribeInstances,
    DescribeSecurityGroups,
    DescribeVolumes,
    RunInstances,
    CreateTags,
    ListBuckets,
    GetBucketPolicy,
    GetObject,
    PutObject,
    HeadObject,
    ListUsers,
    ListRoles,
    GetCallerIdentity,
    Decrypt,
    GenerateDataKey,
    GetParameter,
    GetSecretValue,
    DescribeLogGroups,
    CreateLogStream,
    ListFunctions,
    DescribeTrails,
    LookupEvents,
    GetMetricData,
}

const OBJECT_PREFIXES: &[&str] = &[
    "images/2026/",
    "exports/daily/",
    "uploads/tmp/",
    "reports/q4/",
    "static/js/",
    "db/dumps/",
];

fn object_key(rng: &mut impl Rng) -> String {
    format!(
        "{}{}.{}",
        OBJECT_PREFIXES.choose(rng).unwrap(),
        ids::hex(rng, 12),
        ["json", "png", "csv.gz", "parquet", "js"]
            .choose(rng)
            .unwrap()
    )
}

fn instance_id(rng: &mut impl Rng) -> String {
    format!("i-0{}", ids::hex(rng, 16))
}

/// S3's additionalEventData and request id for data events.
fn s3_details(ev: &mut Event, rng: &mut impl Rng, bytes_in: u64, bytes_out: u64) {
    ev.additional_event_data = Some(format!(
        r#"{{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":{bytes_in},"AuthenticationMethod":"AuthHeader","x-amz-id-2":"{}","bytesTransferredOut":{bytes_out}}}"#,
        ids::alnum(rng, 76)
    ));
    ev.request_id = Some(ids::alnum(rng, 16).to_ascii_uppercase());
}

impl Api {
    /// Fills in what the call did; `ev` already has its identity, time, address and agent.
    pub fn apply(self, ev: &mut Event, account: &Account, rng: &mut impl Rng) {
        ev.request_id = Some(ids::uuid(rng));
        match self {
            Api::DescribeInstances => describe_instances(ev, account, rng),
            Api::DescribeSecurityGroups => describe_security_groups(ev, rng),
            Api::DescribeVolumes => describe_volumes(ev),
            Api::RunInstances => run_instances(ev, account, rng),
            Api::CreateTags => create_tags(ev, rng),
            Api::ListBuckets => list_buckets(ev, rng),
            Api::GetBucketPolicy => get_bucket_policy(ev, account, rng),
            Api::GetObject | Api::PutObject | Api::HeadObject => s3_object(self, ev, account, rng),
            Api::ListUsers => list_users(ev),
            Api::ListRoles => list_roles(ev),
            Api::GetCallerIdentity => get_caller_identity(ev),
            Api::Decrypt | Api::GenerateDataKey => kms_data_key(self, ev, account),
            Api::GetParameter => get_parameter(ev, account, rng),
            Api::GetSecretValue => get_secret_value(ev, account),
            Api::DescribeLogGroups => describe_log_groups(ev),
            Api::CreateLogStream => create_log_stream(ev, account, rng),
            Api::ListFunctions => list_functions(ev),
            Api::DescribeTrails => describe_trails(ev),
            Api::LookupEvents => lookup_events(ev),
            Api::GetMetricData => get_metric_data(ev, rng),
        }
    }
}

/// `DescribeInstances`: source, name and request parameters.
fn describe_instances(ev: &mut Event, account: &Account, rng: &mut impl Rng) {
    set(ev, "ec2.amazonaws.com", "DescribeInstances", true);
    let ids: Vec<String> = (0..rng.random_range(0..4))
        .map(|_| instance_id(rng))
        .collect();
    let items: Vec<String> = ids
        .iter()
        .map(|i| format!(r#"{{"instanceId":"{i}"}}"#))
        .collect();
    ev.request_parameters = Some(format!(
        r#"{{"instancesSet":{{"items":[{}]}},"filterSet":{{"items":[{{"name":"instance-state-name","valueSet":{{"items":[{{"value":"running"}},{{"value":"stopped"}}]}}}},{{"name":"tag:Environment","valueSet":{{"items":[{{"value":"{}"}}]}}}}]}}}}"#,
        items.join(","),
        account.name
    ));
}

/// `DescribeSecurityGroups`: source, name and request parameters.
fn describe_security_groups(ev: &mut Event, rng: &mut impl Rng) {
    set(ev, "ec2.amazonaws.com", "DescribeSecurityGroups", true);
    ev.request_parameters = Some(format!(
        r#"{{"securityGroupSet":{{}},"securityGroupIdSet":{{"items":[{{"groupId":"sg-0{}"}}]}},"filterSet":{{}}}}"#,
        ids::hex(rng, 16)
    ));
}

/// `DescribeVolumes`: source, name and request parameters.
fn describe_volumes(ev: &mut Event) {
    set(ev, "ec2.amazonaws.com", "DescribeVolumes", true);
    ev.request_parameters = Some(
            r#"{"volumeSet":{},"filterSet":{"items":[{"name":"status","valueSet":{"items":[{"value":"in-use"}]}}]},"maxResults":500}"#.to_string(),
        );
}

/// `RunInstances`: source, name and request parameters.
fn run_instances(ev: &mut Event, account: &Account, rng: &mut impl Rng) {
    let acct = &account.id;
    let region = ev.region.clone();
    set(ev, "ec2.amazonaws.com", "RunInstances", false);
    let instance = instance_id(rng);
    let subnet = ids::hex(rng, 17);
    let sg = ids::hex(rng, 17);
    ev.request_parameters = Some(format!(
        r#"{{"instancesSet":{{"items":[{{"imageId":"ami-0{}","minCount":1,"maxCount":1}}]}},"instanceType":"m7g.large","blockDeviceMapping":{{"items":[{{"deviceName":"/dev/xvda","ebs":{{"volumeSize":50,"deleteOnTermination":true,"volumeType":"gp3","encrypted":true}}}}]}},"monitoring":{{"enabled":false}},"disableApiTermination":false,"disableApiStop":false,"clientToken":"terraform-{}","networkInterfaceSet":{{"items":[{{"deviceIndex":0,"subnetId":"subnet-{subnet}","groupSet":{{"items":[{{"groupId":"sg-{sg}"}}]}}}}]}},"iamInstanceProfile":{{"arn":"arn:aws:iam::{acct}:instance-profile/{}-app-server"}},"tagSpecificationSet":{{"items":[{{"resourceType":"instance","tags":[{{"key":"Name","value":"app-{}"}},{{"key":"Environment","value":"{}"}},{{"key":"ManagedBy","value":"terraform"}}]}}]}},"metadataOptions":{{"httpTokens":"required","httpPutResponseHopLimit":2,"httpEndpoint":"enabled"}}}}"#,
        ids::hex(rng, 16),
        ids::hex(rng, 26),
        account.name,
        ids::hex(rng, 6),
        account.name
    ));
    ev.response_elements = Some(format!(
        r#"{{"requestId":"{}","reservationId":"r-0{}","ownerId":"{acct}","groupSet":{{}},"instancesSet":{{"items":[{{"instanceId":"{instance}","imageId":"ami-0{}","currentInstanceBootMode":"uefi","instanceState":{{"code":0,"name":"pending"}},"privateDnsName":"ip-10-0-{}-{}.{region}.compute.internal","amiLaunchIndex":0,"productCodes":{{}},"instanceType":"m7g.large","launchTime":{},"placement":{{"availabilityZone":"{region}a","tenancy":"default"}},"monitoring":{{"state":"disabled"}},"subnetId":"subnet-{subnet}","vpcId":"vpc-0{}","privateIpAddress":"10.0.{}.{}","stateReason":{{"code":"pending","message":"pending"}},"architecture":"arm64","rootDeviceType":"ebs","rootDeviceName":"/dev/xvda","blockDeviceMapping":{{}},"virtualizationType":"hvm","hypervisor":"xen","groupSet":{{"items":[{{"groupId":"sg-{sg}","groupName":"app"}}]}},"networkInterfaceSet":{{"items":[{{"networkInterfaceId":"eni-0{}","subnetId":"subnet-{subnet}","ownerId":"{acct}","status":"in-use","privateIpAddress":"10.0.{}.{}","sourceDestCheck":true,"interfaceType":"interface"}}]}},"ebsOptimized":true,"enaSupport":true,"metadataOptions":{{"state":"pending","httpTokens":"required","httpPutResponseHopLimit":2,"httpEndpoint":"enabled"}}}}]}}}}"#,
        ids::uuid(rng),
        ids::hex(rng, 16),
        ids::hex(rng, 16),
        rng.random_range(0..255),
        rng.random_range(1..255),
        ev.time * 1000,
        ids::hex(rng, 16),
        rng.random_range(0..255),
        rng.random_range(1..255),
        ids::hex(rng, 16),
        rng.random_range(0..255),
        rng.random_range(1..255),
    ));
}

/// `CreateTags`: source, name and request parameters.
fn create_tags(ev: &mut Event, rng: &mut impl Rng) {
    set(ev, "ec2.amazonaws.com", "CreateTags", false);
    ev.request_parameters = Some(format!(
        r#"{{"resourcesSet":{{"items":[{{"resourceId":"{}"}}]}},"tagSet":{{"items":[{{"key":"Owner","value":"platform"}},{{"key":"CostCenter","value":"{}"}}]}}}}"#,
        instance_id(rng),
        rng.random_range(1000..9999)
    ));
    ev.response_elements = Some(format!(
        r#"{{"requestId":"{}","_return":true}}"#,
        ids::uuid(rng)
    ));
}

/// `ListBuckets`: source, name and request parameters.
fn list_buckets(ev: &mut Event, rng: &mut impl Rng) {
    let region = ev.region.clone();
    set(ev, "s3.amazonaws.com", "ListBuckets", true);
    ev.request_parameters = Some(format!(r#"{{"Host":"s3.{region}.amazonaws.com"}}"#));
    s3_details(ev, rng, 0, 4_000);
}

/// `GetBucketPolicy`: source, name and request parameters.
fn get_bucket_policy(ev: &mut Event, account: &Account, rng: &mut impl Rng) {
    let acct = &account.id;
    let region = ev.region.clone();
    set(ev, "s3.amazonaws.com", "GetBucketPolicy", true);
    let bucket = account.buckets.choose(rng).unwrap();
    ev.request_parameters = Some(format!(
        r#"{{"bucketName":"{bucket}","Host":"{bucket}.s3.{region}.amazonaws.com","policy":""}}"#
    ));
    if rng.random_bool(0.5) {
        ev.error = Some((
            "NoSuchBucketPolicy".into(),
            "The bucket policy does not exist".into(),
        ));
    }
    s3_details(ev, rng, 0, 0);
    ev.resources = vec![bucket_resource(bucket, acct)];
}

/// `GetObject`, `PutObject`, `HeadObject`: source, name and request parameters.
fn s3_object(api: Api, ev: &mut Event, account: &Account, rng: &mut impl Rng) {
    let acct = &account.id;
    let region = ev.region.clone();
    let name = match api {
        Api::GetObject => "GetObject",
        Api::PutObject => "PutObject",
        _ => "HeadObject",
    };
    set(ev, "s3.amazonaws.com", name, api != Api::PutObject);
    ev.data_event = true;
    let bucket = account.buckets.choose(rng).unwrap();
    let key = object_key(rng);
    ev.request_parameters = Some(format!(
        r#"{{"bucketName":"{bucket}","Host":"{bucket}.s3.{region}.amazonaws.com","key":"{key}"}}"#
    ));
    let size = rng.random_range(200..5_000_000);
    let (bytes_in, bytes_out) = match api {
        Api::PutObject => (size, 0),
        Api::GetObject => (0, size),
        _ => (0, 0),
    };
    if api == Api::PutObject {
        ev.response_elements = Some(format!(
            r#"{{"x-amz-server-side-encryption":"aws:kms","x-amz-server-side-encryption-aws-kms-key-id":"{}","x-amz-server-side-encryption-bucket-key-enabled":true}}"#,
            account.kms_key
        ));
    }
    s3_details(ev, rng, bytes_in, bytes_out);
    ev.resources = vec![
        Resource {
            arn: format!("arn:aws:s3:::{bucket}/{key}"),
            account: None,
            kind: "AWS::S3::Object",
        },
        bucket_resource(bucket, acct),
    ];
}

/// `ListUsers`: source, name and request parameters.
fn list_users(ev: &mut Event) {
    set(ev, "iam.amazonaws.com", "ListUsers", true);
    ev.region = "us-east-1".into();
}

/// `ListRoles`: source, name and request parameters.
fn list_roles(ev: &mut Event) {
    set(ev, "iam.amazonaws.com", "ListRoles", true);
    ev.region = "us-east-1".into();
    ev.request_parameters = Some(r#"{"maxItems":1000}"#.into());
}

/// `GetCallerIdentity`: source, name and request parameters.
fn get_caller_identity(ev: &mut Event) {
    set(ev, "sts.amazonaws.com", "GetCallerIdentity", true);
}

/// `Decrypt`, `GenerateDataKey`: source, name and request parameters.
fn kms_data_key(api: Api, ev: &mut Event, account: &Account) {
    let acct = &account.id;
    let name = if api == Api::Decrypt {
        "Decrypt"
    } else {
        "GenerateDataKey"
    };
    set(ev, "kms.amazonaws.com", name, true);
    ev.request_parameters = Some(if api == Api::Decrypt {
        format!(
            r#"{{"encryptionContext":{{"aws:s3:arn":"arn:aws:s3:::{}"}},"encryptionAlgorithm":"SYMMETRIC_DEFAULT"}}"#,
            account.buckets[0]
        )
    } else {
        format!(
            r#"{{"keyId":"{}","keySpec":"AES_256","encryptionContext":{{"aws:s3:arn":"arn:aws:s3:::{}"}}}}"#,
            account.kms_key, account.buckets[1]
        )
    });
    ev.resources = vec![Resource {
        arn: account.kms_key.clone(),
        account: Some(acct.clone()),
        kind: "AWS::KMS::Key",
    }];
}

/// `GetParameter`: source, name and request parameters.
fn get_parameter(ev: &mut Event, account: &Account, rng: &mut impl Rng) {
    set(ev, "ssm.amazonaws.com", "GetParameter", true);
    ev.request_parameters = Some(format!(
        r#"{{"name":"/{}/app/{}","withDecryption":true}}"#,
        account.name,
        ["db-host", "feature-flags", "queue-url"]
            .choose(rng)
            .unwrap()
    ));
}

/// `GetSecretValue`: source, name and request parameters.
/// A secret's ARN ends in six characters Secrets Manager picks once, when the secret is
/// created: the same secret has the same ARN in every call.
fn get_secret_value(ev: &mut Event, account: &Account) {
    let acct = &account.id;
    let region = ev.region.clone();
    set(ev, "secretsmanager.amazonaws.com", "GetSecretValue", true);
    let suffix: String = acct
        .bytes()
        .rev()
        .take(6)
        .map(|digit| (b'a' + (digit - b'0') * 2) as char)
        .collect();
    ev.request_parameters = Some(format!(
        r#"{{"secretId":"arn:aws:secretsmanager:{region}:{acct}:secret:{}/db-credentials-{suffix}"}}"#,
        account.name,
    ));
}

/// `DescribeLogGroups`: source, name and request parameters.
fn describe_log_groups(ev: &mut Event) {
    set(ev, "logs.amazonaws.com", "DescribeLogGroups", true);
    ev.request_parameters = Some(r#"{"limit":50,"logGroupNamePrefix":"/aws/lambda/"}"#.into());
}

/// `CreateLogStream`: source, name and request parameters.
fn create_log_stream(ev: &mut Event, account: &Account, rng: &mut impl Rng) {
    set(ev, "logs.amazonaws.com", "CreateLogStream", false);
    ev.request_parameters = Some(format!(
        r#"{{"logGroupName":"/aws/lambda/{}","logStreamName":"2026/10/01/[$LATEST]{}"}}"#,
        account.name,
        ids::hex(rng, 32)
    ));
}

/// `ListFunctions`: source, name and request parameters.
fn list_functions(ev: &mut Event) {
    set(ev, "lambda.amazonaws.com", "ListFunctions20150331", true);
}

/// `DescribeTrails`: source, name and request parameters.
fn describe_trails(ev: &mut Event) {
    set(ev, "cloudtrail.amazonaws.com", "DescribeTrails", true);
    ev.request_parameters = Some(r#"{"includeShadowTrails":true}"#.into());
}

/// `LookupEvents`: source, name and request parameters.
fn lookup_events(ev: &mut Event) {
    set(ev, "cloudtrail.amazonaws.com", "LookupEvents", true);
    ev.request_parameters = Some(
            r#"{"maxResults":50,"lookupAttributes":[{"attributeKey":"ReadOnly","attributeValue":"false"}]}"#
                .into(),
        );
}

/// `GetMetricData`: source, name and request parameters.
fn get_metric_data(ev: &mut Event, rng: &mut impl Rng) {
    set(ev, "monitoring.amazonaws.com", "GetMetricData", true);
    ev.request_parameters = Some(format!(
        r#"{{"metricDataQueries":[{{"id":"cpu","metricStat":{{"metric":{{"namespace":"AWS/EC2","metricName":"CPUUtilization","dimensions":[{{"name":"InstanceId","value":"{}"}}]}},"period":300,"stat":"Average"}}}}],"startTime":"{}","endTime":"{}"}}"#,
        instance_id(rng),
        crate::synth::clock::event_time(ev.time - 3600),
        crate::synth::clock::event_time(ev.time)
    ));
}

fn set(ev: &mut Event, source: &'static str, name: &'static str, read_only: bool) {
    ev.source = source;
    ev.name = name;
    ev.read_only = Some(read_only);
}

fn bucket_resource(bucket: &str, account: &str) -> Resource {
    Resource {
        arn: format!("arn:aws:s3:::{bucket}"),
        account: Some(account.to_string()),
        kind: "AWS::S3::Bucket",
    }
}

/// Picks from `(weight, item)` pairs.
pub fn weighted<T: Copy>(rng: &mut impl Rng, table: &[(u32, T)]) -> T {
    let total: u32 = table.iter().map(|(w, _)| w).sum();
    let mut roll = rng.random_range(0..total);
    for &(w, item) in table {
        if roll < w {
            return item;
        }
        roll -= w;
    }
    table[table.len() - 1].1
}
