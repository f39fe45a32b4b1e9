//! The only place that knows about threads: files are analysed in parallel with rayon,
//! one file per task, and results are collected in input order, so the index does not
//! depend on the thread count.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use crate::classify::Model;
use crate::decode::Decoder;
use crate::detect::{Detector, DetectorParams};
use crate::discover::Input;
use crate::error::{Error, FileError};
use crate::index::{Index, Recording};

/// How to run a scan.
#[derive(Debug, Clone)]
pub struct ScanConfig {
    /// Detector settings.
    pub params: DetectorParams,
    /// Classifier weights.
    pub model: Model,
    /// Worker threads; `None` means one per core.
    pub threads: Option<usize>,
    /// Show a progress bar on stderr (only drawn when stderr is a terminal).
    pub progress: bool,
}

/// What a scan produced and how long it took.
#[derive(Debug)]
pub struct ScanOutcome {
    /// The index.
    pub index: Index,
    /// Wall time.
    pub elapsed: Duration,
}

/// Decodes and analyses one recording. Never panics on bad input: failures become
/// [`Recording::error`].
pub fn analyse_file(input: &Input, params: DetectorParams, model: Model) -> Recording {
    let source = std::path::absolute(&input.path).unwrap_or_else(|_| input.path.clone());
    let mut rec = Recording {
        path: input.display.clone(),
        source: Some(source.display().to_string()),
        ..Recording::default()
    };
    match run_detector(&input.path, params, model, &mut rec) {
        Ok(()) => {}
        Err(e) => rec.error = Some(e.to_string()),
    }
    rec
}

fn run_detector(
    path: &Path,
    params: DetectorParams,
    model: Model,
    rec: &mut Recording,
) -> Result<(), FileError> {
    let mut decoder = Decoder::open(path)?;
    let mut chunk = Vec::with_capacity(8192);
    // The rate may only be known once the first packet is decoded.
    let has_audio = decoder.next_chunk(&mut chunk)?;
    let info = decoder.info().clone();
    rec.sample_rate = info.sample_rate;
    rec.channels = info.channels;
    rec.codec = info.codec.clone();
    if !has_audio || info.sample_rate == 0 {
        rec.decode_warnings = decoder.warnings().to_vec();
        return Err(FileError::NoAudio);
    }
    let mut detector = Detector::new(info.sample_rate, params, model);
    let mut samples = 0u64;
    loop {
        samples += chunk.len() as u64;
        detector.push(&chunk);
        if !decoder.next_chunk(&mut chunk)? {
            break;
        }
    }
    rec.duration_s = samples as f64 / f64::from(info.sample_rate);
    rec.skipped_packets = decoder.skipped_packets();
    rec.decode_warnings = decoder.warnings().to_vec();
    rec.detections = detector.finish();
    Ok(())
}

/// Scans `inputs` in parallel and builds the index.
pub fn scan(inputs: &[Input], config: &ScanConfig) -> Result<ScanOutcome, Error> {
    let started = Instant::now();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(config.threads.unwrap_or(0))
        .build()
        .map_err(|e| Error::Usage(format!("cannot start worker threads: {e}")))?;
    let bar = progress_bar(inputs.len() as u64, config.progress);
    let audio_ms = AtomicU64::new(0);
    let recordings: Vec<Recording> = pool.install(|| {
        inputs
            .par_iter()
            .map(|input| {
                let rec = analyse_file(input, config.params, config.model);
                let total = audio_ms.fetch_add((rec.duration_s * 1000.0) as u64, Ordering::Relaxed)
                    + (rec.duration_s * 1000.0) as u64;
                if let Some(e) = &rec.error {
                    // Per-file errors are always shown, above the bar when there is one.
                    let line = format!("blastscan: {}: {e}", input.path.display());
                    if bar.is_hidden() {
                        eprintln!("{line}");
                    } else {
                        bar.println(line);
                    }
                }
                bar.set_message(format!("{:.2} h of audio", total as f64 / 3.6e6));
                bar.inc(1);
                rec
            })
            .collect()
    });
    bar.finish_and_clear();
    Ok(ScanOutcome { index: Index::new(config.params, recordings), elapsed: started.elapsed() })
}

fn progress_bar(len: u64, show: bool) -> ProgressBar {
    let target = if show { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
    let bar = ProgressBar::with_draw_target(Some(len), target);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} files, {msg} (ETA {eta})",
    ) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}
