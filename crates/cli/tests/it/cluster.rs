//! Queries on a Ballista cluster (cargo feature `cluster`): a scheduler and two executors
//! started here on localhost give exactly the local results.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::{ingested_trail, trailscope};

/// The scheduler and executors, stopped when dropped.
struct Cluster {
    processes: Vec<Child>,
    scheduler_port: u16,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for child in &mut self.processes {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect()
}

fn spawn(args: &[String], log: &Path, env: &[(&str, String)]) -> Child {
    let log = std::fs::File::create(log).unwrap();
    trailscope()
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

impl Cluster {
    /// A scheduler and `executors` executors (with the default task slots), with `env`.
    fn start(dir: &Path, executors: usize, env: &[(&str, String)]) -> Cluster {
        let ports = free_ports(1 + 2 * executors);
        let scheduler = format!("127.0.0.1:{}", ports[0]);
        let mut cluster = Cluster {
            processes: vec![spawn(
                &["scheduler".into(), "--bind".into(), scheduler.clone()],
                &dir.join("scheduler.log"),
                env,
            )],
            scheduler_port: ports[0],
        };
        let started = Instant::now();
        while TcpStream::connect(&scheduler).is_err() {
            assert!(started.elapsed() < Duration::from_secs(60), "no scheduler");
            std::thread::sleep(Duration::from_millis(100));
        }
        for e in 0..executors {
            let work = dir.join(format!("executor{e}"));
            std::fs::create_dir_all(&work).unwrap();
            cluster.processes.push(spawn(
                &[
                    "executor".into(),
                    "--scheduler".into(),
                    scheduler.clone(),
                    "--port".into(),
                    ports[1 + 2 * e].to_string(),
                    "--grpc-port".into(),
                    ports[2 + 2 * e].to_string(),
                    "--work-dir".into(),
                    work.to_string_lossy().into_owned(),
                ],
                &dir.join(format!("executor{e}.log")),
                env,
            ));
        }
        cluster
    }

    fn url(&self) -> String {
        format!("df://127.0.0.1:{}", self.scheduler_port)
    }
}

/// Waits until the cluster answers a query on `lake` as this machine does.
fn wait_for(cluster: &Cluster, lake: &str, env: &[(&str, String)]) {
    // The executors register with the scheduler shortly after it starts.
    let probe = [
        "sql",
        "-d",
        lake,
        "SELECT count(*) FROM events",
        "-f",
        "csv",
    ];
    let started = Instant::now();
    loop {
        let out = run_with(&probe, Some(cluster), env);
        if out.status.success() {
            assert_eq!(out.stdout, run_with(&probe, None, env).stdout);
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the cluster never answered: {}",
            String::from_utf8_lossy(&out.stderr),
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn run(args: &[&str], cluster: Option<&Cluster>) -> Output {
    run_with(args, cluster, &[])
}

/// How long a query on the cluster may take before the test fails (a stuck job never
/// ends by itself: a hang must fail the test, not the CI run).
const QUERY_DEADLINE: Duration = Duration::from_secs(300);

fn run_with(args: &[&str], cluster: Option<&Cluster>, env: &[(&str, String)]) -> Output {
    let mut command: Command = trailscope();
    command
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())));
    let Some(cluster) = cluster else {
        return command.output().unwrap();
    };
    command.args(["--cluster", &cluster.url()]);
    let files = tempfile::tempdir().unwrap();
    let (out, err) = (files.path().join("out"), files.path().join("err"));
    let mut child = command
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > QUERY_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{args:?} on the cluster did not end in {QUERY_DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: std::fs::read(&out).unwrap(),
        stderr: std::fs::read(&err).unwrap(),
    }
}

fn stdout_of(args: &[&str], cluster: Option<&Cluster>) -> String {
    let out = run(args, cluster);
    assert!(
        out.status.success(),
        "{args:?} on {}: {}",
        if cluster.is_some() {
            "the cluster"
        } else {
            "this machine"
        },
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Three analyst questions: an aggregation, a window over it, and a join of views.
const ANALYST_QUERIES: [&str; 3] = [
    "SELECT event_source, event_name, count(*) AS n, count(DISTINCT source_ip_address) AS ips \
     FROM events GROUP BY event_source, event_name ORDER BY n DESC, event_source, event_name",
    "SELECT event_date, event_name, n, rank() OVER (PARTITION BY event_date ORDER BY n DESC, event_name) AS r \
     FROM (SELECT event_date, event_name, count(*) AS n FROM events GROUP BY event_date, event_name) \
     ORDER BY event_date, r",
    "SELECT p.id, p.events, count(DISTINCT a.actor) AS actors \
     FROM principals p JOIN attribution a ON a.principal = p.id WHERE p.kind = 'principal' \
     GROUP BY p.id, p.events ORDER BY p.events DESC, p.id",
];

#[test]
fn findings_attribution_and_analyst_queries_on_a_two_executor_cluster_equal_the_local_results() {
    let dir = tempfile::tempdir().unwrap();
    let lake = ingested_trail(dir.path(), 3 << 20, "lake");
    let lake = lake.to_str().unwrap();
    let cluster = Cluster::start(dir.path(), 2, &[]);
    wait_for(&cluster, lake, &[]);

    let findings = ["findings", "-d", lake, "-f", "json"];
    let all = stdout_of(&findings, None);
    assert!(all.len() > 100, "the trail has findings: {all}");
    assert_eq!(stdout_of(&findings, Some(&cluster)), all);
    // A threshold leaves the plan empty branches (the detections below it): Ballista's
    // adaptive planner and its per-task metrics once left such a job never ending.
    for severity in ["high", "critical"] {
        let findings = [&findings[..], &["--min-severity", severity]].concat();
        let local = stdout_of(&findings, None);
        assert!(
            local.len() > 100 && local.len() < all.len(),
            "{severity}: {local}"
        );
        assert_eq!(stdout_of(&findings, Some(&cluster)), local, "{severity}");
    }

    let attribution = "SELECT source_file, record_index, event_id, account_id, principal, \
         principal_type, actor, actor_type, actor_name, method, chain FROM attribution \
         ORDER BY source_file, record_index";
    let query = ["sql", "-d", lake, attribution, "-f", "csv"];
    let local = stdout_of(&query, None);
    assert!(local.lines().count() > 1000, "{}", local.lines().count());
    assert_eq!(stdout_of(&query, Some(&cluster)), local);

    for sql in ANALYST_QUERIES {
        let query = ["sql", "-d", lake, sql, "-f", "csv"];
        let local = stdout_of(&query, None);
        assert!(local.lines().count() > 2, "{sql}: {local}");
        assert_eq!(stdout_of(&query, Some(&cluster)), local, "{sql}");
    }
}

#[test]
fn an_s3_dataset_on_the_cluster_gives_its_committed_events_only() {
    use crate::s3::{CONTENT, S3Server, s3_ingest, two_trails, with_credentials};
    let Some(server) =
        S3Server::start("an_s3_dataset_on_the_cluster_gives_its_committed_events_only")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (_, _) = two_trails(&server, dir.path(), 41);
    let out = s3_ingest(&server, "s3://trails/first", "s3://lake/ds", &[]);
    assert!(out.status.success(), "{out:?}");
    // A second run dies before its commit: its data files are in the bucket, uncommitted.
    let committed = server.keys("lake", "ds/event_date=").len();
    let mut crashed = with_credentials(trailscope());
    crashed
        .args([
            "ingest",
            "s3://trails/second",
            "--out",
            "s3://lake/ds",
            "-q",
        ])
        .args(["--endpoint", &server.endpoint()])
        .env("TRAILSCOPE_CRASH_AT", "s3-before-commit");
    assert!(!crashed.output().unwrap().status.success());
    assert!(server.keys("lake", "ds/event_date=").len() > committed);

    // The scheduler and executors read S3 with their own environment's credentials.
    let env = [
        ("AWS_ACCESS_KEY_ID", "test".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_string()),
        ("AWS_REGION", "us-east-1".to_string()),
        ("AWS_ENDPOINT", server.endpoint()),
    ];
    let cluster = Cluster::start(dir.path(), 2, &env);
    wait_for(&cluster, "s3://lake/ds", &env);
    for args in [
        vec!["sql", "-d", "s3://lake/ds", CONTENT, "-f", "csv"],
        vec!["findings", "-d", "s3://lake/ds", "-f", "json"],
    ] {
        let local = run_with(&args, None, &env);
        assert!(local.status.success(), "{local:?}");
        let on_cluster = run_with(&args, Some(&cluster), &env);
        assert!(on_cluster.status.success(), "{on_cluster:?}");
        assert_eq!(
            String::from_utf8_lossy(&on_cluster.stdout),
            String::from_utf8_lossy(&local.stdout),
            "{args:?}"
        );
    }
}
