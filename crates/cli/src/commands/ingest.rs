//! `trailscope ingest`.

use crate::Outcome;
use crate::args::IngestConfig;
use crate::report::{Progress, ingest_summary};

pub fn run(config: IngestConfig) -> anyhow::Result<Outcome> {
    keep_freed_memory();
    let progress = Progress::new(config.output.quiet || config.output.json);
    let result = with_trimmed_heaps(|| trailscope_ingest::ingest(&config.options, &progress));
    progress.finish();
    let mut summary = result?;
    if let Some(remote) = &config.remote_out {
        // The run wrote to a local working copy and published each commit to S3.
        summary.dataset = remote.url.clone().into();
    }
    if config.output.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else if !config.output.quiet {
        print!("{}", ingest_summary(&summary));
    }
    Ok(if summary.is_clean() {
        Outcome::Clean
    } else {
        Outcome::InputProblems
    })
}

/// glibc's malloc gives freed memory back to the kernel as soon as 128 KiB are free at the
/// top of a heap, and serves blocks from 128 KiB up (until its threshold adapts) by
/// `mmap`; ingest's workers allocate and free batch-sized buffers all the time, so they
/// paid for the same pages again and again (a `mprotect` per heap growth, a page fault per
/// page). Keeping up to 256 MiB free per heap and serving blocks under 32 MiB from the
/// heaps cut page faults by a quarter and ingest's time by 5% on the 1 GiB trail, for 4%
/// more peak memory (benches/RESULTS.md, session 13). Ingest only: queries keep glibc's
/// defaults.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets malloc's tuning parameters; it runs before ingest starts
    // its threads, and an unknown parameter is refused with 0, not undefined behaviour.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
        libc::mallopt(libc::M_TOP_PAD, 16 << 20);
    }
}

/// Runs `work` while a thread hands the heaps' free pages back to the kernel every second
/// (`malloc_trim`). The settings of [`keep_freed_memory`] keep freed memory for speed, and
/// over a long run glibc then held far more than the program used (30 GiB trail: peak RSS
/// about 180 MB above the peak heap). Trimmed, the 30 GiB peak fell from 490-514 MiB to
/// 391-480 MiB, for about 5% more time there and none on the 1 GiB trail
/// (benches/RESULTS.md, session 16).
fn with_trimmed_heaps<T>(work: impl FnOnce() -> T) -> T {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::sync::atomic::{AtomicBool, Ordering};
        let done = AtomicBool::new(false);
        std::thread::scope(|scope| {
            let trimmer = scope.spawn(|| {
                while !done.load(Ordering::Relaxed) {
                    std::thread::park_timeout(std::time::Duration::from_secs(1));
                    // SAFETY: malloc_trim only returns free memory to the kernel; glibc
                    // locks each arena while it walks it.
                    unsafe { libc::malloc_trim(0) };
                }
            });
            let result = work();
            done.store(true, Ordering::Relaxed);
            trimmer.thread().unpark();
            result
        })
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    work()
}
