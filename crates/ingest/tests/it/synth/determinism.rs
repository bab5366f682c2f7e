use trailscope_ingest::synth::Layout;

use super::{files, generated, small};

#[test]
fn same_seed_same_bytes_whatever_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let mut one = small(dir.path().join("one"), 42);
    one.threads = 1;
    let mut two = small(dir.path().join("two"), 42);
    two.threads = 3;
    generated(&one);
    generated(&two);
    let a = files(&one.out);
    let b = files(&two.out);
    assert!(a.len() > 50, "only {} files", a.len());
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (path, bytes) in &a {
        assert!(bytes == &b[path], "{path} differs between runs");
    }
}

#[test]
fn another_seed_gives_another_trail() {
    let dir = tempfile::tempdir().unwrap();
    let a = small(dir.path().join("a"), 1);
    let b = small(dir.path().join("b"), 2);
    generated(&a);
    generated(&b);
    let a = files(&a.out);
    let b = files(&b.out);
    let shared = a.keys().filter(|k| b.contains_key(*k)).count();
    assert!(
        shared < a.len() / 10,
        "{shared} of {} paths are the same",
        a.len()
    );
}

#[test]
fn layouts_place_files_where_cloudtrail_does() {
    let dir = tempfile::tempdir().unwrap();
    for layout in [Layout::Account, Layout::Org, Layout::Mixed] {
        let mut options = small(dir.path().join(layout.to_string()), 5);
        options.layout = layout;
        let summary = generated(&options);
        let org = &summary.truth.organization_id;
        let paths: Vec<String> = files(&options.out).into_keys().collect();
        let trail: Vec<&String> = paths
            .iter()
            .filter(|p| p.contains("/CloudTrail/"))
            .collect();
        assert_eq!(trail.len() as u64, summary.truth.totals.trail_files);
        let under_org = trail
            .iter()
            .filter(|p| p.starts_with(&format!("AWSLogs/{org}/")))
            .count();
        match layout {
            Layout::Account => assert_eq!(under_org, 0),
            Layout::Org => assert_eq!(under_org, trail.len()),
            Layout::Mixed => {
                assert!(under_org > 0 && under_org < trail.len());
                assert!(summary.truth.totals.duplicate_records > 0);
            }
        }
        for p in &trail {
            let name = p.rsplit('/').next().unwrap();
            // <account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<unique>.json.gz
            let parts: Vec<&str> = name.split('_').collect();
            assert_eq!(parts.len(), 5, "{name}");
            assert_eq!(parts[1], "CloudTrail");
            assert_eq!(parts[3].len(), 14, "{name}");
            assert!(p.contains(&format!("/CloudTrail/{}/", parts[2])), "{p}");
            assert!(name.ends_with(".json.gz"));
        }
        assert!(
            paths
                .iter()
                .filter(|p| p.contains("/CloudTrail-Digest/"))
                .count() as u64
                == summary.truth.totals.digest_files
        );
        assert!(paths.iter().any(|p| p.contains("/CloudTrail-Insight/")));
        assert!(paths.contains(&"ground-truth.json".to_string()));
    }
}

#[test]
fn size_is_close_to_what_was_asked() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = small(dir.path().join("t"), 9);
    options.size_bytes = 6 << 20;
    let summary = generated(&options);
    let json = summary.truth.totals.json_bytes as f64;
    let asked = options.size_bytes as f64;
    // The scenarios and the issuing calls of background sessions come on top.
    assert!(
        json > asked * 0.95 && json < asked * 1.3,
        "{json} bytes for {asked} asked"
    );
}
