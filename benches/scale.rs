//! 30 hours of voice notes in about a minute? The scan of an archive of 120 distinct
//! generated Opus voice notes (24 kbit/s, 1-2.5 minutes each, 3.5 hours in all), on one
//! core and on both, from an empty output folder each time.
//!
//! ```text
//! cargo bench --bench scale              # 3 runs per thread count
//! SCALE_RUNS=5 cargo bench --bench scale
//! ```
//! It prints, per thread count, the best and median wall time, hours of audio per
//! wall-second, the two-core speed-up over one core and the time 30 hours would take at
//! that speed. The notes are made once with ffmpeg (a bench-time helper, never a runtime
//! dependency) under `target/bench-audio/scale/`. The second core of a shared virtual
//! machine is not always free: compare best and median.

mod support;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use blastscan::batch::pipeline::ScanConfig;
use blastscan::batch::{run, Batch};
use blastscan::detect::model::DEFAULT_MODEL;
use blastscan::detect::DetectorParams;
use blastscan::link::LinkConfig;
use blastscan::output::export::Tables;
use blastscan::synth::{blast, mix, speech, wind, Distance};

const NOTES: u32 = 120;
const RATE: u32 = 16000;

/// Length of note `i`, seconds: 60 to 150, spread by a multiplicative hash.
fn seconds_of(i: u32) -> f64 {
    60.0 + f64::from(i.wrapping_mul(2_654_435_761) % 91)
}

fn archive() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-audio/scale");
    std::fs::create_dir_all(&dir).expect("create the archive folder");
    for i in 0..NOTES {
        let opus = dir.join(format!("PTT-20240314-WA{i:04}.opus"));
        if opus.exists() {
            continue;
        }
        let seconds = seconds_of(i);
        let mut track = wind(RATE, seconds, 0.01, 3000 + i);
        mix(&mut track, &speech(RATE, seconds, 0.04, 4000 + i), 0.0, RATE);
        let mut at = 4.0 + f64::from(i % 17);
        while at < seconds - 5.0 {
            mix(&mut track, &blast(RATE, Distance::Near, 0.7, 5000 + i + at as u32), at, RATE);
            at += 25.0 + f64::from(i % 11);
        }
        support::write_opus(&opus, &track, RATE);
    }
    dir
}

/// Wall time of one scan of `input` into a new output folder with `threads` threads.
fn scan_once(input: &Path, threads: usize) -> (f64, f64) {
    let out = tempfile::tempdir().expect("temp dir");
    let batch = Batch {
        inputs: vec![input.to_path_buf()],
        out: out.path().to_path_buf(),
        scan: ScanConfig {
            params: DetectorParams::default(),
            model: *DEFAULT_MODEL,
            threads: Some(threads),
            progress: false,
            shard: None,
        },
        link: LinkConfig::default(),
        incidents: Default::default(),
    };
    let started = Instant::now();
    let done = run(&batch, &Tables, &AtomicBool::new(false)).expect("scan");
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(done.counts.new, NOTES as usize, "every note analysed");
    (seconds, done.index.summary.audio_hours)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this with no argument.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let runs: usize = std::env::var("SCALE_RUNS").ok().and_then(|r| r.parse().ok()).unwrap_or(3);
    let input = archive();
    let mut best = Vec::new();
    for threads in [1, 2] {
        let mut times = Vec::new();
        let mut hours = 0.0;
        for _ in 0..runs.max(1) {
            let (seconds, h) = scan_once(&input, threads);
            times.push(seconds);
            hours = h;
        }
        times.sort_by(f64::total_cmp);
        let (fastest, median) = (times[0], times[times.len() / 2]);
        println!(
            "{threads} thread(s), {NOTES} notes, {hours:.2} h: best {fastest:.2} s, median {median:.2} s; \
             {:.3} h per wall-second (best), 30 h in {:.0} s (best) / {:.0} s (median)",
            hours / fastest,
            30.0 / hours * fastest,
            30.0 / hours * median
        );
        best.push((fastest, median));
    }
    let (one, two) = (best[0], best[1]);
    println!(
        "two cores over one: {:.2}x (best against best), {:.2}x (median against median)",
        one.0 / two.0,
        one.1 / two.1
    );
}
