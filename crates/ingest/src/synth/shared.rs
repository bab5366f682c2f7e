//! Where the third-party CloudTrail samples are: `../shared/testdata` beside the project
//! (or `TRAILSCOPE_SHARED_TESTDATA`). They are never copied into the repository; tests
//! and `trailscope demo --samples` read them in place, and skip by name where absent.

use std::io::Write;
use std::path::PathBuf;

/// The environment variable that points at the samples elsewhere.
pub const ENV: &str = "TRAILSCOPE_SHARED_TESTDATA";

/// Where the samples come from, for messages when they are absent.
pub const ORIGIN: &str = "the public CloudTrail samples (Stratus Red Team, OTRF, plaso, AWS \
    documentation, invictus-ir and grycap trails) are not part of this repository; put them \
    in ../shared/testdata beside the checkout, or point TRAILSCOPE_SHARED_TESTDATA at them";

/// The samples' directory, if it exists: `$TRAILSCOPE_SHARED_TESTDATA`, then
/// `../shared/testdata` beside the source tree this was built from, then beside the
/// current directory.
pub fn locate() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(ENV) {
        return Some(PathBuf::from(dir)).filter(|d| d.is_dir());
    }
    let workspace = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let candidates = [
        workspace.join("../shared/testdata"),
        PathBuf::from("../shared/testdata"),
    ];
    candidates.into_iter().find(|d| d.is_dir())
}

/// The samples' directory for a test, or `None` after saying on the terminal that the
/// calling test was skipped. Under CI (`CI=true`) the samples must be there: their
/// absence panics instead of skipping.
pub fn for_test() -> Option<PathBuf> {
    if let Some(dir) = locate() {
        return Some(dir);
    }
    let test = std::thread::current()
        .name()
        .map_or_else(|| "a test".to_string(), str::to_string);
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{test}: ../shared/testdata is missing under CI ({ORIGIN})");
    }
    // Written to the stream itself, not through `eprintln!`, so that the test harness's
    // output capture does not hide it: the skip is listed in every `cargo test` run.
    let _ = writeln!(
        std::io::stderr().lock(),
        "SKIPPED {test}: the shared samples are not at ../shared/testdata"
    );
    None
}
