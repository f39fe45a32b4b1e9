//! Re-scanning an unchanged archive against scanning it the first time: 100 one-minute
//! Opus voice notes (24 kbit/s, each different), both cores.
//!
//! ```text
//! cargo bench --bench rescan
//! ```
//! The notes are made once with ffmpeg (a bench-time helper, never a runtime dependency)
//! under `target/bench-audio/archive/`. The target is a re-scan under 2% of a first scan.

mod support;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};

use blastscan::batch::pipeline::ScanConfig;
use blastscan::batch::{run, Batch};
use blastscan::detect::model::DEFAULT_MODEL;
use blastscan::detect::DetectorParams;
use blastscan::link::LinkConfig;
use blastscan::output::export::Tables;
use blastscan::synth::{blast, mix, speech, wind, Distance};

const FILES: u32 = 100;
const RATE: u32 = 16000;

fn archive() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-audio/archive");
    std::fs::create_dir_all(&dir).expect("create the archive folder");
    for i in 0..FILES {
        let opus = dir.join(format!("PTT-20240313-WA{i:04}.opus"));
        if opus.exists() {
            continue;
        }
        let mut track = wind(RATE, 60.0, 0.01, 10 + i);
        mix(&mut track, &speech(RATE, 60.0, 0.04, 500 + i), 0.0, RATE);
        mix(&mut track, &blast(RATE, Distance::Near, 0.7, 900 + i), 5.0 + f64::from(i % 50), RATE);
        support::write_opus(&opus, &track, RATE);
    }
    dir
}

fn job(input: &Path, out: &Path) -> Batch {
    Batch {
        inputs: vec![input.to_path_buf()],
        out: out.to_path_buf(),
        scan: ScanConfig {
            params: DetectorParams::default(),
            model: *DEFAULT_MODEL,
            threads: None,
            progress: false,
            shard: None,
        },
        link: LinkConfig::default(),
        incidents: Default::default(),
    }
}

fn rescan(c: &mut Criterion) {
    let input = archive();
    let cancel = AtomicBool::new(false);
    let mut group = c.benchmark_group("archive_100_opus_notes");
    group.sample_size(10).measurement_time(Duration::from_secs(60));
    group.bench_function("first_scan", |b| {
        b.iter_batched(
            || tempfile::tempdir().expect("temp dir"),
            |out| run(&job(&input, out.path()), &Tables, &cancel).expect("scan"),
            BatchSize::PerIteration,
        )
    });
    let out = tempfile::tempdir().expect("temp dir");
    run(&job(&input, out.path()), &Tables, &cancel).expect("first scan");
    group.bench_function("rescan_unchanged", |b| {
        b.iter(|| {
            let done = run(&job(&input, out.path()), &Tables, &cancel).expect("rescan");
            assert_eq!(done.counts.new, 0);
            done
        })
    });
    group.finish();
}

criterion_group!(benches, rescan);
criterion_main!(benches);
