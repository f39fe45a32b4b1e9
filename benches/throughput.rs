//! Decode-only vs decode + detect, per format, on a generated 10-minute recording
//! (wind, speech-like babble, a blast every 30 s), and the detector's stages alone on the
//! same audio (resampling 48 kHz to 8 kHz; the STFT with its per-frame measurements).
//!
//! ```text
//! cargo bench --bench throughput
//! cargo bench --bench throughput -- stages
//! ```
//! Encoded copies are made once with ffmpeg (a test-time helper, never a runtime
//! dependency) under `target/bench-audio/`. Throughput is reported in seconds of audio per
//! second (criterion's "elements" are audio seconds), i.e. x realtime on one core.

use std::path::{Path, PathBuf};
use std::process::Command;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use blastscan::detect::decode::Decoder;
use blastscan::detect::model::DEFAULT_MODEL;
use blastscan::detect::resample::{Resampler, ANALYSIS_RATE};
use blastscan::detect::stft::Stft;
use blastscan::detect::{Detector, DetectorParams};
use blastscan::synth::{blast, mix, speech, wind, write_wav, Distance};

const SECONDS: f64 = 600.0;
const RATE: u32 = 48000;

fn bench_audio() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-audio");
    let wav = dir.join("ten_minutes_48k.wav");
    if !wav.exists() {
        std::fs::create_dir_all(&dir).expect("create target/bench-audio");
        let mut track = wind(RATE, SECONDS, 0.01, 1);
        mix(&mut track, &speech(RATE, SECONDS, 0.05, 2), 0.0, RATE);
        let mut at = 15.0;
        while at < SECONDS - 5.0 {
            mix(&mut track, &blast(RATE, Distance::Near, 0.7, at as u32), at, RATE);
            at += 30.0;
        }
        write_wav(&wav, &track, RATE).expect("write bench WAV");
    }
    dir
}

fn encode(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let out = dir.join(name);
    if !out.exists() {
        let status = Command::new("ffmpeg")
            .args(["-hide_banner", "-loglevel", "error", "-y", "-i"])
            .arg(dir.join("ten_minutes_48k.wav"))
            .args(args)
            .arg(&out)
            .status()
            .expect("ffmpeg is needed to make the bench files (apt-get install ffmpeg)");
        assert!(status.success(), "ffmpeg failed for {name}");
    }
    out
}

/// The 8 kHz copy as AMR-NB 12.2 kbit/s (Debian's ffmpeg has no AMR encoder).
fn encode_amr(dir: &Path) -> PathBuf {
    let out = dir.join("ten_minutes_amr_nb.amr");
    if !out.exists() {
        let wav = encode(dir, "ten_minutes_8k.wav", &["-ar", "8000", "-c:a", "pcm_s16le"]);
        let mut reader = hound::WavReader::open(wav).expect("the 8 kHz bench WAV");
        let samples: Vec<i16> = reader.samples::<i16>().map(|s| s.expect("sample")).collect();
        let amr = blastscan::synth::amr_file(&samples, 8000).expect("AMR encodes");
        std::fs::write(&out, amr).expect("write the AMR bench file");
    }
    out
}

fn decode_only(path: &Path) -> usize {
    let mut decoder = Decoder::open(path).expect("bench file decodes");
    let mut chunk = Vec::new();
    let mut n = 0;
    while decoder.next_chunk(&mut chunk).expect("decode") {
        n += chunk.len();
    }
    n
}

/// What a scan does with a file: decode for analysis (Opus at
/// `opus::ANALYSIS_DECODE_RATE`), detect.
fn decode_and_detect(path: &Path) -> usize {
    detect_with(Decoder::open_for_analysis(path).expect("bench file decodes"))
}

/// The same at the file's own rate (the path before Opus was decoded at the analysis
/// rate), for comparison.
fn decode_and_detect_full_rate(path: &Path) -> usize {
    detect_with(Decoder::open(path).expect("bench file decodes"))
}

fn detect_with(mut decoder: Decoder) -> usize {
    let mut chunk = Vec::new();
    let mut detector: Option<Detector> = None;
    while decoder.next_chunk(&mut chunk).expect("decode") {
        let rate = decoder.info().sample_rate;
        detector
            .get_or_insert_with(|| Detector::new(rate, DetectorParams::default(), *DEFAULT_MODEL))
            .push(&chunk);
    }
    detector.map_or(0, |d| d.finish().len())
}

fn formats(c: &mut Criterion) {
    let dir = bench_audio();
    let files = [
        ("wav_48k", dir.join("ten_minutes_48k.wav")),
        ("wav_16k", encode(&dir, "ten_minutes_16k.wav", &["-ar", "16000", "-c:a", "pcm_s16le"])),
        ("opus_24k", encode(&dir, "ten_minutes_24k.opus", &["-c:a", "libopus", "-b:a", "24k"])),
        ("aac_48k_m4a", encode(&dir, "ten_minutes_48k.m4a", &["-c:a", "aac", "-b:a", "48k"])),
        ("mp3_64k", encode(&dir, "ten_minutes_64k.mp3", &["-c:a", "libmp3lame", "-b:a", "64k"])),
        ("amr_nb_12k", encode_amr(&dir)),
    ];
    for (name, path) in &files {
        let mut group = c.benchmark_group(*name);
        group.sample_size(10);
        group.throughput(Throughput::Elements(SECONDS as u64));
        group.bench_function("decode_only", |b| b.iter(|| decode_only(path)));
        group.bench_function("decode_and_detect", |b| b.iter(|| decode_and_detect(path)));
        if name.starts_with("opus") {
            group.bench_function("decode_and_detect_full_rate", |b| {
                b.iter(|| decode_and_detect_full_rate(path))
            });
        }
        group.finish();
    }
}

/// The decoded 48 kHz samples of the bench recording.
fn decoded(path: &Path) -> Vec<f32> {
    let mut decoder = Decoder::open(path).expect("bench file decodes");
    let (mut chunk, mut all) = (Vec::new(), Vec::new());
    while decoder.next_chunk(&mut chunk).expect("decode") {
        all.extend_from_slice(&chunk);
    }
    all
}

fn resample(samples: &[f32], rate: u32) -> Vec<f32> {
    let mut resampler = Resampler::new(rate);
    let mut out = Vec::with_capacity(samples.len() * ANALYSIS_RATE as usize / rate as usize + 1);
    for chunk in samples.chunks(4096) {
        resampler.process(chunk, &mut out);
    }
    resampler.finish(&mut out);
    out
}

/// What the detector costs per stage, without decoding: the share of an hour of audio
/// each takes is what bounds decode + detect for the fast decoders.
fn stages(c: &mut Criterion) {
    let at_48k = decoded(&bench_audio().join("ten_minutes_48k.wav"));
    let at_8k = resample(&at_48k, RATE);
    let mut group = c.benchmark_group("stages");
    group.sample_size(10);
    group.throughput(Throughput::Elements(SECONDS as u64));
    group.bench_function("resample_48k_to_8k", |b| b.iter(|| resample(&at_48k, RATE).len()));
    group.bench_function("stft_8k", |b| {
        b.iter(|| {
            let mut stft = Stft::new();
            let mut frames = 0usize;
            for chunk in at_8k.chunks(4096) {
                stft.process(chunk, |_| frames += 1);
            }
            frames
        })
    });
    // The whole detector at the analysis rate: STFT, onset picking, measuring and
    // classifying every candidate. Less `stft_8k`, what finding and judging transients costs.
    group.bench_function("detect_8k", |b| {
        b.iter(|| {
            let mut detector =
                Detector::new(ANALYSIS_RATE, DetectorParams::default(), *DEFAULT_MODEL);
            for chunk in at_8k.chunks(4096) {
                detector.push(chunk);
            }
            detector.finish().len()
        })
    });
    group.finish();
    // The classifier alone, per candidate (300 trees and a linear model over the inputs;
    // the network, if the model has one, apart).
    let candidates = {
        let mut detector = Detector::new(ANALYSIS_RATE, DetectorParams::default(), *DEFAULT_MODEL)
            .keeping_model_inputs();
        detector.push(&at_8k);
        detector.finish_candidates()
    };
    let inputs: Vec<_> = candidates.iter().filter_map(|c| c.inputs.clone()).collect();
    eprintln!(
        "{} candidates in {} s of bench audio ({:.0} per hour)",
        inputs.len(),
        SECONDS,
        inputs.len() as f64 * 3600.0 / SECONDS
    );
    let mut group = c.benchmark_group("classifier");
    group.throughput(Throughput::Elements(inputs.len().max(1) as u64));
    group.bench_function("every_candidate", |b| {
        b.iter(|| inputs.iter().map(|x| DEFAULT_MODEL.confidence_of(x)).sum::<f32>())
    });
    // The network over each candidate's patch, and the patch itself (measured with it).
    let patches: Vec<_> = candidates.iter().filter_map(|c| c.patch.clone()).collect();
    if let Some(ensemble) = DEFAULT_MODEL.ensemble {
        group.bench_function("network_every_candidate", |b| {
            b.iter(|| patches.iter().map(|p| ensemble.network.log_odds(p)).sum::<f32>())
        });
    }
    group.finish();
}

criterion_group!(benches, formats, stages);
criterion_main!(benches);
