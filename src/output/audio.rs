//! Reading a recording's audio again after the scan, for clips and the report: cut
//! ranges at the source rate (mono), fade their ends, encode them as WAV (hound).

use std::io::Cursor;
use std::path::{Path, PathBuf};

use crate::detect::decode::Decoder;
use crate::error::{AudioUnavailable, Error, FileError};
use crate::index::Recording;

/// Fade-in and fade-out length, seconds (removes clicks at the cut points).
pub const FADE_S: f64 = 0.01;

/// Mono audio cut from a recording.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    /// Samples in -1..1.
    pub samples: Vec<f32>,
    /// Sample rate, Hz.
    pub rate: u32,
    /// Time of the first sample in the recording, seconds.
    pub start_s: f64,
}

/// Cuts several time ranges (`from_s..to_s`, clamped to the recording) from one recording
/// in a single decoding pass; decoding stops after the last range.
pub fn read_spans(path: &Path, ranges: &[(f64, f64)]) -> Result<Vec<Span>, FileError> {
    let mut decoder = Decoder::open(path)?;
    let mut spans: Vec<Span> = ranges
        .iter()
        .map(|&(from, _)| Span { samples: Vec::new(), rate: 0, start_s: from.max(0.0) })
        .collect();
    let last_end = ranges.iter().map(|r| r.1).fold(0.0f64, f64::max);
    let mut chunk = Vec::new();
    let mut position = 0u64;
    while decoder.next_chunk(&mut chunk)? {
        let rate = decoder.info().sample_rate.max(1);
        let chunk_start = position;
        position += chunk.len() as u64;
        for (span, &(from, to)) in spans.iter_mut().zip(ranges) {
            span.rate = rate;
            let a = (from.max(0.0) * f64::from(rate)) as u64;
            let b = (to.max(0.0) * f64::from(rate)) as u64;
            let lo = a.max(chunk_start);
            let hi = b.min(position);
            if lo < hi {
                span.samples.extend_from_slice(
                    &chunk[(lo - chunk_start) as usize..(hi - chunk_start) as usize],
                );
            }
        }
        if position as f64 / f64::from(rate) > last_end {
            break;
        }
    }
    Ok(spans)
}

/// Applies linear fades of [`FADE_S`] at both ends.
pub fn fade(samples: &mut [f32], rate: u32) {
    let n = ((FADE_S * f64::from(rate)) as usize).min(samples.len() / 2);
    for i in 0..n {
        let g = i as f32 / n as f32;
        samples[i] *= g;
        let j = samples.len() - 1 - i;
        samples[j] *= g;
    }
}

/// 16-bit mono WAV bytes. Writing to memory fails only past WAV's 4 GiB limit.
pub fn wav_bytes(samples: &[f32], rate: u32) -> Result<Vec<u8>, Error> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate.max(1),
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let failed = |e: hound::Error| Error::Serialise { what: "a WAV clip", reason: e.to_string() };
    let mut cursor = Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut cursor, spec).map_err(failed)?;
    for &s in samples {
        w.write_sample((s.clamp(-1.0, 1.0) * 32767.0).round() as i16).map_err(failed)?;
    }
    w.finalize().map_err(failed)?;
    Ok(cursor.into_inner())
}

/// Where a recording's audio is: the path recorded at scan time.
pub fn source_of(rec: &Recording) -> Result<PathBuf, AudioUnavailable> {
    let path = rec.source.as_deref().map(PathBuf::from).ok_or(AudioUnavailable::NotRecorded)?;
    if path.is_file() {
        Ok(path)
    } else {
        Err(AudioUnavailable::Moved(path))
    }
}

/// Cuts `ranges` from a recording found at its [`source_of`] path; the error says, in
/// words, why the audio could not be read.
pub fn spans_of(rec: &Recording, ranges: &[(f64, f64)]) -> Result<Vec<Span>, AudioUnavailable> {
    source_of(rec).and_then(|p| Ok(read_spans(&p, ranges)?))
}
