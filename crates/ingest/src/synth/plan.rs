//! Which files the trail has: per account and region, files spread over the days, each
//! with a number of background records, plus the scheduled events that fall in its window.

use rand::Rng;

use crate::synth::clock::DAY;
use crate::synth::ids::rng_for;
use crate::synth::scenarios::Scheduled;
use crate::synth::world::World;

/// CloudTrail delivers a file about every five minutes per account and region
/// (<https://docs.aws.amazon.com/awscloudtrail/latest/userguide/how-cloudtrail-works.html>).
pub const WINDOW: i64 = 300;

/// Most records a file of the busiest account and region holds.
pub const MAX_RECORDS_PER_FILE: f64 = 3000.0;

/// One trail file to write.
#[derive(Debug, Clone)]
pub struct FilePlan {
    pub account: usize,
    pub region: usize,
    /// Delivery time: the file holds events from the five minutes before it.
    pub delivery: i64,
    pub background: u32,
    /// Indices into the scheduled events.
    pub scheduled: Vec<usize>,
}

fn account_weight(account: usize) -> f64 {
    if account == 0 {
        0.6
    } else {
        1.0 / (1.0 + 0.25 * (account - 1) as f64)
    }
}

fn region_weight(region: usize) -> f64 {
    [
        1.0, 0.45, 0.2, 0.08, 0.05, 0.04, 0.03, 0.02, 0.02, 0.01, 0.01, 0.01,
    ][region.min(11)]
}

/// Plans files holding about `records` background records, and places each scheduled
/// event in a file of its account and region whose window holds it.
pub fn plan(world: &World, records: u64, scheduled: &[Scheduled]) -> Vec<FilePlan> {
    let mut weights = Vec::new();
    for a in 0..world.accounts.len() {
        for r in 0..world.regions.len() {
            weights.push((a, r, account_weight(a) * region_weight(r)));
        }
    }
    let total_weight: f64 = weights.iter().map(|w| w.2).sum();
    let max_weight = weights.iter().map(|w| w.2).fold(0.0, f64::max);
    let span = world.days * DAY;
    let mut streams: Vec<Vec<FilePlan>> = Vec::with_capacity(weights.len());
    for (s, &(account, region, weight)) in weights.iter().enumerate() {
        let mut rng = rng_for(world.seed, "plan", s as u64);
        let target = (records as f64 * weight / total_weight).round() as u64;
        let max_per_file = (MAX_RECORDS_PER_FILE * weight / max_weight).max(20.0);
        let mut sizes = Vec::new();
        let mut sum = 0u64;
        while sum < target {
            // Log-uniform: many small files, a few large ones, as real trails have.
            let n = (rng.random::<f64>() * max_per_file.ln())
                .exp()
                .round()
                .max(1.0) as u64;
            let n = n.min(target - sum);
            sizes.push(n as u32);
            sum += n;
        }
        let count = sizes.len().max(1) as i64;
        let files = sizes
            .into_iter()
            .enumerate()
            .map(|(i, background)| {
                let offset = ((i as f64 + rng.random::<f64>()) * (span - WINDOW) as f64
                    / count as f64) as i64;
                FilePlan {
                    account,
                    region,
                    delivery: world.start + WINDOW + offset,
                    background,
                    scheduled: Vec::new(),
                }
            })
            .collect();
        streams.push(files);
    }
    for (index, item) in scheduled.iter().enumerate() {
        let region = world
            .regions
            .iter()
            .position(|r| *r == item.event.region)
            .unwrap_or(0);
        let stream = &mut streams[item.account * world.regions.len() + region];
        let time = item.event.time;
        // The first file delivered after the event whose window holds it.
        let at = stream.partition_point(|f| f.delivery <= time);
        match stream.get_mut(at) {
            Some(file) if file.delivery - WINDOW <= time => file.scheduled.push(index),
            _ => {
                let delivery = (time.div_euclid(WINDOW) + 1) * WINDOW;
                stream.insert(
                    at,
                    FilePlan {
                        account: item.account,
                        region,
                        delivery,
                        background: 0,
                        scheduled: vec![index],
                    },
                );
            }
        }
    }
    streams.into_iter().flatten().collect()
}
