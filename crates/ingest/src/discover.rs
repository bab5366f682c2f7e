//! Finds the trail files under the inputs and names each by a stable relative path.
//!
//! CloudTrail writes `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<file>.json.gz`
//! (organization trails: `AWSLogs/o-<org>/<account>/...`), digest files under
//! `CloudTrail-Digest/` and Insight events under `CloudTrail-Insight/`
//! (<https://docs.aws.amazon.com/awscloudtrail/latest/userguide/get-and-view-cloudtrail-log-files.html>).
//! Digest and Insight files are skipped and counted.

use std::collections::HashSet;
use std::fs;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

/// A file to ingest. Its path and its source name share one string where the name ends
/// the path (nearly always): a run of a hundred thousand files holds each name once.
#[derive(Debug, Clone)]
pub struct InputFile {
    names: Names,
    /// Size in bytes on disk (0 when it cannot be read).
    pub size: u64,
    /// Modification time, nanoseconds since the epoch (when the file system says).
    pub modified: Option<i64>,
}

/// Where a file is and its stable name.
#[derive(Debug, Clone)]
enum Names {
    /// The path's text; the source name is its end, from byte `source_at`.
    Shared { path: Box<str>, source_at: u32 },
    /// A path and a name apart (a link's target named, a name made unique, a path that is
    /// not UTF-8).
    Apart(Box<(PathBuf, Box<str>)>),
}

impl InputFile {
    /// The file at `path`, named `source`.
    pub fn new(path: PathBuf, source: &str, size: u64, modified: Option<i64>) -> Self {
        let shared = path.to_str().and_then(|text| {
            let source_at = u32::try_from(text.strip_suffix(source)?.len()).ok()?;
            Some(Names::Shared {
                path: text.into(),
                source_at,
            })
        });
        InputFile {
            names: shared.unwrap_or_else(|| Names::Apart(Box::new((path, source.into())))),
            size,
            modified,
        }
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        match &self.names {
            Names::Shared { path, .. } => Path::new(&**path),
            Names::Apart(apart) => &apart.0,
        }
    }

    /// Its stable name: from `AWSLogs/` on when the path has it, else relative to the input.
    pub fn source(&self) -> &str {
        match &self.names {
            Names::Shared { path, source_at } => &path[*source_at as usize..],
            Names::Apart(apart) => &apart.1,
        }
    }
}

/// What discovery found.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Files to ingest, in processing order.
    pub files: Vec<InputFile>,
    /// CloudTrail digest files skipped.
    pub digest_files: u64,
    /// CloudTrail Insight files skipped.
    pub insight_files: u64,
    /// Files skipped because their names are not those of trail files.
    pub other_files: Vec<PathBuf>,
    /// Directories that could not be listed, with the reason.
    pub unreadable_dirs: Vec<(PathBuf, String)>,
    /// Delivery-day folders (or S3 prefixes) skipped unlisted, as delivered before
    /// `--since` ([`crate::delivery`]).
    pub folders_before_since: u64,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum FileKind {
    Trail,
    Digest,
    Insight,
    Other,
}

pub(crate) fn classify(path: &Path, named_explicitly: bool) -> FileKind {
    let text = path.to_string_lossy();
    if text.contains("CloudTrail-Digest") {
        return FileKind::Digest;
    }
    if text.contains("CloudTrail-Insight") {
        return FileKind::Insight;
    }
    if named_explicitly {
        return FileKind::Trail;
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let lower = name.to_ascii_lowercase();
    let base = lower.strip_suffix(".gz").unwrap_or(&lower);
    if !name.starts_with('.')
        && (base.ends_with(".json")
            || base.ends_with(".jsonl")
            || base.ends_with(".ndjson")
            || base != lower)
    {
        FileKind::Trail
    } else {
        FileKind::Other
    }
}

/// Files at least this large are started first, so one huge file does not end the run alone.
const LARGE_FILE: u64 = 32 << 20;

/// Lists the trail files under `inputs` (files or directories), skipping `exclude`
/// (the dataset itself, should it sit inside an input).
pub fn discover(inputs: &[PathBuf], exclude: Option<&Path>) -> Result<Discovery> {
    discover_since(inputs, exclude, None)
}

/// [`discover`], skipping the delivery-day folders delivered before day `since_day` (days
/// since 1970-01-01) without listing them ([`crate::delivery`]).
pub fn discover_since(
    inputs: &[PathBuf],
    exclude: Option<&Path>,
    since_day: Option<i64>,
) -> Result<Discovery> {
    let exclude = exclude.and_then(|p| p.canonicalize().ok());
    let mut found = Discovery::default();
    let mut names = HashSet::new();
    for input in inputs {
        let meta = fs::metadata(input).map_err(|e| Error::io(input, e))?;
        if meta.is_dir() {
            let root = input.canonicalize().map_err(|e| Error::io(input, e))?;
            let walk_options = Walk {
                root: &root,
                exclude: exclude.as_deref(),
                since_day,
            };
            walk(&walk_options, &root, &mut found, &mut names);
        } else {
            let name = input
                .file_name()
                .map(PathBuf::from)
                .unwrap_or_else(|| input.clone());
            add_file(input, &name, true, Some(&meta), &mut found, &mut names);
        }
    }
    // Large files first (they bound the run's length), then by day: the workers read a
    // day's files together, across accounts and regions, so each day's partition is
    // written by few files instead of one per (account, region, worker) visit.
    sort_for_reading(&mut found.files);
    Ok(found)
}

/// Large files first (see [`discover`]), then by delivery day and name.
pub(crate) fn sort_for_reading(files: &mut [InputFile]) {
    files.sort_by(|a, b| {
        (b.size >= LARGE_FILE)
            .cmp(&(a.size >= LARGE_FILE))
            .then_with(|| export_day(a.source()).cmp(export_day(b.source())))
            .then_with(|| a.source().cmp(b.source()))
    });
}

/// The `YYYY/MM/DD` folders of a CloudTrail export path
/// (`AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<file>`), or "" when it has none.
fn export_day(source: &str) -> &str {
    let mut parts = source.rsplitn(5, '/');
    let (_file, day, month, year) = (parts.next(), parts.next(), parts.next(), parts.next());
    let is = |part: Option<&str>, len: usize| {
        part.is_some_and(|p| p.len() == len && p.bytes().all(|b| b.is_ascii_digit()))
    };
    if is(year, 4) && is(month, 2) && is(day, 2) {
        let end = source.len() - _file.map_or(0, |f| f.len() + 1);
        &source[end - 10..end]
    } else {
        ""
    }
}

#[cfg(test)]
mod day_tests {
    use super::export_day;

    #[test]
    fn the_day_of_an_export_path() {
        assert_eq!(
            export_day("AWSLogs/1/CloudTrail/eu-west-1/2026/03/02/x.json.gz"),
            "2026/03/02"
        );
        assert_eq!(export_day("trail.json"), "");
        assert_eq!(export_day("a/b/2026/3/02/x.json"), "");
    }
}

/// What a directory walk keeps to from its start.
struct Walk<'a> {
    root: &'a Path,
    exclude: Option<&'a Path>,
    since_day: Option<i64>,
}

fn walk(walk_options: &Walk<'_>, dir: &Path, found: &mut Discovery, names: &mut HashSet<String>) {
    let Walk {
        root,
        exclude,
        since_day,
    } = *walk_options;
    if let Some(since_day) = since_day {
        let components = dir.components().filter_map(|c| match c {
            Component::Normal(part) => part.to_str(),
            _ => None,
        });
        if crate::delivery::delivered_before(components, since_day) {
            found.folders_before_since += 1;
            return;
        }
    }
    let mut entries: Vec<_> = match fs::read_dir(dir) {
        Ok(entries) => entries.filter_map(|e| e.ok()).map(|e| e.path()).collect(),
        Err(e) => {
            found
                .unreadable_dirs
                .push((dir.to_path_buf(), e.to_string()));
            return;
        }
    };
    entries.sort();
    for path in entries {
        if exclude.is_some_and(|ex| path == ex) {
            continue;
        }
        let link_meta = fs::symlink_metadata(&path);
        let meta = fs::metadata(&path);
        match (&link_meta, &meta) {
            // Directories are followed, symlinked ones not (they may loop).
            (Ok(link), _) if link.is_dir() => walk(walk_options, &path, found, names),
            (Ok(link), Ok(meta)) if link.file_type().is_symlink() && meta.is_dir() => {}
            (_, Ok(meta)) => {
                let relative = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
                add_file(&path, &relative, false, Some(meta), found, names);
            }
            // A dangling link or an unreadable entry: try it, so the error is reported.
            (_, Err(_)) => {
                let relative = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
                add_file(&path, &relative, false, None, found, names);
            }
        }
    }
}

fn add_file(
    path: &Path,
    relative: &Path,
    named_explicitly: bool,
    meta: Option<&fs::Metadata>,
    found: &mut Discovery,
    names: &mut HashSet<String>,
) {
    match classify(relative, named_explicitly) {
        FileKind::Digest => found.digest_files += 1,
        FileKind::Insight => found.insight_files += 1,
        FileKind::Other => found.other_files.push(path.to_path_buf()),
        FileKind::Trail => {
            let mut source = source_name(path, relative);
            if !names.insert(source.clone()) {
                // Two inputs with the same relative name: fall back to the full path.
                source = path
                    .canonicalize()
                    .unwrap_or_else(|_| path.to_path_buf())
                    .to_string_lossy()
                    .into_owned();
                names.insert(source.clone());
            }
            found.files.push(InputFile::new(
                path.to_path_buf(),
                &source,
                meta.map_or(0, fs::Metadata::len),
                meta.and_then(modified_nanos),
            ));
        }
    }
}

/// A file's modification time in nanoseconds since the epoch.
fn modified_nanos(meta: &fs::Metadata) -> Option<i64> {
    let since = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    i64::try_from(since.as_nanos()).ok()
}

/// The stable name of a file: its path from the `AWSLogs` component on, when it has one
/// (so the name does not depend on where the bucket was synced), else `relative`.
fn source_name(path: &Path, relative: &Path) -> String {
    let absolute = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let parts: Vec<_> = absolute
        .components()
        .filter_map(|c| match c {
            Component::Normal(part) => Some(part.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    if let Some(at) = parts.iter().rposition(|p| p == "AWSLogs") {
        return parts[at..].join("/");
    }
    relative
        .components()
        .filter_map(|c| match c {
            Component::Normal(part) => Some(part.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_cloudtrail_files() {
        let p = |s: &str| PathBuf::from(s);
        assert_eq!(
            classify(
                &p("AWSLogs/1/CloudTrail/us-east-1/2024/01/01/1_CloudTrail_us-east-1_x.json.gz"),
                false
            ),
            FileKind::Trail
        );
        assert_eq!(
            classify(
                &p(
                    "AWSLogs/1/CloudTrail-Digest/us-east-1/2024/01/01/1_CloudTrail-Digest_x.json.gz"
                ),
                false
            ),
            FileKind::Digest
        );
        assert_eq!(
            classify(
                &p("AWSLogs/1/CloudTrail-Insight/us-east-1/2024/01/01/x.json.gz"),
                false
            ),
            FileKind::Insight
        );
        assert_eq!(classify(&p("events.jsonl"), false), FileKind::Trail);
        assert_eq!(classify(&p("notes.txt"), false), FileKind::Other);
        assert_eq!(classify(&p(".DS_Store"), false), FileKind::Other);
        assert_eq!(classify(&p("notes.txt"), true), FileKind::Trail);
    }

    #[test]
    fn names_files_from_awslogs_and_orders_large_first() {
        let tmp = tempfile::tempdir().unwrap();
        let day = tmp
            .path()
            .join("sync/AWSLogs/111/CloudTrail/us-east-1/2024/01/02");
        fs::create_dir_all(&day).unwrap();
        fs::write(day.join("b.json.gz"), b"x").unwrap();
        fs::write(day.join("a.json.gz"), b"x").unwrap();
        fs::write(tmp.path().join("sync/readme.md"), b"x").unwrap();
        let digest = tmp
            .path()
            .join("sync/AWSLogs/111/CloudTrail-Digest/us-east-1/2024/01/02");
        fs::create_dir_all(&digest).unwrap();
        fs::write(digest.join("d.json.gz"), b"x").unwrap();
        let found = discover(&[tmp.path().join("sync")], None).unwrap();
        let names: Vec<_> = found.files.iter().map(|f| f.source()).collect();
        assert_eq!(
            names,
            [
                "AWSLogs/111/CloudTrail/us-east-1/2024/01/02/a.json.gz",
                "AWSLogs/111/CloudTrail/us-east-1/2024/01/02/b.json.gz"
            ]
        );
        assert_eq!(found.digest_files, 1);
        assert_eq!(found.other_files.len(), 1);
    }

    #[test]
    fn a_path_holds_its_source_name_when_it_ends_with_it() {
        let path = "/sync/AWSLogs/1/CloudTrail/us-east-1/2024/01/02/a.json.gz";
        let shared = InputFile::new(PathBuf::from(path), &path[6..], 7, Some(9));
        assert!(matches!(shared.names, Names::Shared { .. }));
        assert_eq!(shared.path(), Path::new(path));
        assert_eq!(shared.source(), &path[6..]);
        // A link named by its target's path: the two are kept apart.
        let link = InputFile::new(PathBuf::from("/sync/link.json.gz"), &path[6..], 7, None);
        assert!(matches!(link.names, Names::Apart(_)));
        assert_eq!(link.path(), Path::new("/sync/link.json.gz"));
        assert_eq!(link.source(), &path[6..]);
        assert_eq!((link.size, link.modified), (7, None));
    }

    #[test]
    fn a_missing_input_is_an_error() {
        assert!(discover(&[PathBuf::from("/nonexistent/trail")], None).is_err());
    }
}
