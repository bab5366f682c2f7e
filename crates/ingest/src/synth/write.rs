//! Writes the planned files in parallel: each file's bytes depend only on the seed and
//! the file's place in the plan, so the output is the same whatever the thread count.

use std::fs;
use std::io::Write;
use std::path::Path;

use flate2::{Compression, GzBuilder};
use rand::Rng;
use rayon::prelude::*;

use crate::synth::background;
use crate::synth::clock::{self, DAY};
use crate::synth::error::{Error, Result};
use crate::synth::ids::{self, rng_for};
use crate::synth::json::JsonOut;
use crate::synth::layout::{self, Layout};
use crate::synth::plan::{FilePlan, WINDOW};
use crate::synth::scenarios::Scheduled;
use crate::synth::world::World;

/// What writing the trail files produced.
#[derive(Debug, Default, Clone, Copy)]
pub struct Written {
    pub files: u64,
    pub records: u64,
    pub duplicate_records: u64,
    pub json_bytes: u64,
    pub gzip_bytes: u64,
}

impl Written {
    fn add(self, other: Written) -> Written {
        Written {
            files: self.files + other.files,
            records: self.records + other.records,
            duplicate_records: self.duplicate_records + other.duplicate_records,
            json_bytes: self.json_bytes + other.json_bytes,
            gzip_bytes: self.gzip_bytes + other.gzip_bytes,
        }
    }
}

/// Gzips `json` to `root/relative`, creating folders as needed; returns the bytes written.
pub fn write_gz(root: &Path, relative: &str, json: &[u8], level: u32) -> Result<u64> {
    let path = root.join(relative);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    // mtime 0 and no file name in the header: the same input gives the same bytes.
    let mut encoder = GzBuilder::new()
        .mtime(0)
        .write(Vec::with_capacity(json.len() / 8), Compression::new(level));
    encoder.write_all(json).map_err(|e| Error::io(&path, e))?;
    let bytes = encoder.finish().map_err(|e| Error::io(&path, e))?;
    fs::write(&path, &bytes).map_err(|e| Error::io(&path, e))?;
    Ok(bytes.len() as u64)
}

/// Renders one planned file's records.
fn render(
    world: &World,
    plan: &FilePlan,
    index: usize,
    scheduled: &[Scheduled],
    out: &mut JsonOut,
) -> u64 {
    let mut rng = rng_for(world.seed, "file", index as u64);
    let region = &world.regions[plan.region];
    let mut times: Vec<i64> = (0..plan.background)
        .map(|_| plan.delivery - WINDOW + rng.random_range(0..WINDOW))
        .collect();
    times.sort_unstable();
    out.clear();
    out.buf.extend_from_slice(b"{\"Records\":[");
    let mut records = 0;
    let mut next = plan.scheduled.iter().peekable();
    for &time in &times {
        while let Some(&&s) = next.peek() {
            if scheduled[s].event.time > time {
                break;
            }
            scheduled[s].event.write(out);
            records += 1;
            next.next();
        }
        background::event(world, plan.account, region, time, &mut rng).write(out);
        records += 1;
    }
    for &s in next {
        scheduled[s].event.write(out);
        records += 1;
    }
    out.buf.extend_from_slice(b"]}");
    records
}

/// Writes every planned trail file (and, in the mixed layout, the second delivery of the
/// duplicated account's files).
pub fn trail_files(
    world: &World,
    layout: Layout,
    root: &Path,
    plans: &[FilePlan],
    scheduled: &[Scheduled],
    level: u32,
) -> Result<Written> {
    plans
        .par_iter()
        .enumerate()
        .map_init(JsonOut::new, |out, (index, plan)| {
            let records = render(world, plan, index, scheduled, out);
            let account = &world.accounts[plan.account].id;
            let region = &world.regions[plan.region];
            let mut rng = rng_for(world.seed, "name", index as u64);
            let org = (layout != Layout::Account).then_some(world.org_id.as_str());
            let path = layout::trail_file(
                &layout::prefix(org, account),
                account,
                region,
                plan.delivery,
                &ids::alnum(&mut rng, 16),
            );
            let mut written = Written {
                files: 1,
                records,
                duplicate_records: 0,
                json_bytes: out.buf.len() as u64,
                gzip_bytes: write_gz(root, &path, &out.buf, level)?,
            };
            if layout == Layout::Mixed && world.accounts.len() > 1 && plan.account == 1 {
                let path = layout::trail_file(
                    &layout::prefix(None, account),
                    account,
                    region,
                    plan.delivery,
                    &ids::alnum(&mut rng, 16),
                );
                written = written.add(Written {
                    files: 1,
                    records,
                    duplicate_records: records,
                    json_bytes: out.buf.len() as u64,
                    gzip_bytes: write_gz(root, &path, &out.buf, level)?,
                });
            }
            Ok(written)
        })
        .try_reduce(Written::default, |a, b| Ok(a.add(b)))
}

/// One digest file per account, region and day, and one Insight file per account: both
/// are in real buckets and both must be skipped by ingest.
pub fn digest_and_insight_files(world: &World, layout: Layout, root: &Path) -> Result<(u64, u64)> {
    let org = (layout != Layout::Account).then_some(world.org_id.as_str());
    let mut digests = 0;
    let mut insights = 0;
    let mut rng = rng_for(world.seed, "digest", 0);
    for account in &world.accounts {
        let prefix = layout::prefix(org, &account.id);
        for region in &world.regions {
            for day in 0..world.days {
                let end = world.start + (day + 1) * DAY - 1;
                let json = format!(
                    r#"{{"awsAccountId":"{}","digestStartTime":"{}","digestEndTime":"{}","digestS3Bucket":"org-trail-logs","digestS3Object":"{}","digestPublicKeyFingerprint":"{}","digestSignatureAlgorithm":"SHA256withRSA","newestEventTime":"{}","oldestEventTime":"{}","previousDigestS3Bucket":"org-trail-logs","previousDigestHashValue":"{}","previousDigestHashAlgorithm":"SHA-256","previousDigestSignature":"{}","logFiles":[]}}"#,
                    account.id,
                    clock::event_time(end - DAY + 1),
                    clock::event_time(end),
                    layout::digest_file(&prefix, &account.id, region, "org-trail", end),
                    ids::hex(&mut rng, 32),
                    clock::event_time(end - 60),
                    clock::event_time(end - DAY + 60),
                    ids::hex(&mut rng, 64),
                    ids::hex(&mut rng, 512),
                );
                write_gz(
                    root,
                    &layout::digest_file(&prefix, &account.id, region, "org-trail", end),
                    json.as_bytes(),
                    6,
                )?;
                digests += 1;
            }
        }
        let time = world.start + world.days * DAY / 2;
        let json = format!(
            r#"{{"Records":[{{"eventVersion":"1.08","eventTime":"{}","awsRegion":"{}","eventID":"{}","eventType":"AwsCloudTrailInsight","recipientAccountId":"{}","sharedEventID":"{}","insightDetails":{{"state":"Start","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","insightType":"ApiCallRateInsight","insightContext":{{"statistics":{{"baseline":{{"average":0.0138}},"insight":{{"average":4.0}},"insightDuration":1}}}}}},"eventCategory":"Insight"}}]}}"#,
            clock::event_time(time),
            world.regions[0],
            ids::uuid(&mut rng),
            account.id,
            ids::uuid(&mut rng)
        );
        let path = layout::insight_file(
            &prefix,
            &account.id,
            &world.regions[0],
            time,
            &ids::alnum(&mut rng, 16),
        );
        write_gz(root, &path, json.as_bytes(), 6)?;
        insights += 1;
    }
    Ok((digests, insights))
}
