//! The shipped training examples (`models/training-examples.bin`): every candidate of the
//! training sets with its inputs and label, quantised, so `blastscan train` can refit on
//! them plus an investigator's own.

use super::example::{Example, N};
use crate::detect::features::SCALAR_INPUTS;

/// The shipped training examples, so `blastscan train` can add an investigator's own
/// recordings to what the shipped model learnt from (`models/training-examples.bin`,
/// written by the project's trainer, embedded in the binary).
const SHIPPED_EXAMPLES: &[u8] = include_bytes!("../../models/training-examples.bin");

/// First bytes of an examples file.
const MAGIC: &[u8; 8] = b"BLASTEX2";

/// Bytes per quantised value of input `j`: the named features get 16 bits, the profile
/// cells (levels in dB, which the fits resolve to about a decibel) 8.
fn width_of(j: usize) -> usize {
    if j < SCALAR_INPUTS {
        2
    } else {
        1
    }
}

/// Bytes per example: its class, then every input.
fn row_len() -> usize {
    1 + (0..N).map(width_of).sum::<usize>()
}

/// A fingerprint of the input names, so examples made for another feature set are refused.
fn inputs_tag() -> [u8; 8] {
    let names = crate::detect::features::input_names().join("\n");
    let hash = blake3::hash(names.as_bytes());
    let mut tag = [0u8; 8];
    tag.copy_from_slice(&hash.as_bytes()[..8]);
    tag
}

/// Examples as bytes: a header (magic, the input names' tag, count), each input's
/// minimum and step, then per example its class (1 byte) and every input quantised over
/// that input's range, to 16 bits for the named features and 8 for the profile cells
/// (`width_of`; the error is at most half a step).
pub fn encode_examples(examples: &[&Example]) -> Vec<u8> {
    let mut out = Vec::with_capacity(20 + N * 8 + examples.len() * row_len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&inputs_tag());
    out.extend_from_slice(&(examples.len() as u32).to_le_bytes());
    let mut ranges = Vec::with_capacity(N);
    for j in 0..N {
        let (lo, hi) = examples
            .iter()
            .map(|e| e.x[j])
            .fold((f32::MAX, f32::MIN), |(a, b), v| (a.min(v), b.max(v)));
        let lo = if lo <= hi { lo } else { 0.0 };
        let top = if width_of(j) == 2 { f32::from(u16::MAX) } else { f32::from(u8::MAX) };
        let step = ((hi - lo) / top).max(f32::MIN_POSITIVE);
        out.extend_from_slice(&lo.to_le_bytes());
        out.extend_from_slice(&step.to_le_bytes());
        ranges.push((lo, step, top));
    }
    for e in examples {
        out.push(u8::from(e.y > 0.5));
        for (j, &(lo, step, top)) in ranges.iter().enumerate() {
            let q = ((e.x[j] - lo) / step).round().clamp(0.0, top) as u16;
            if width_of(j) == 2 {
                out.extend_from_slice(&q.to_le_bytes());
            } else {
                out.push(q as u8);
            }
        }
    }
    out
}

/// Reads examples written by [`encode_examples`] (as set `set`, one group per example).
pub fn decode_examples(bytes: &[u8], set: usize) -> Result<Vec<Example>, String> {
    let bad = || "not a blastscan examples file, or a truncated one".to_string();
    let header = bytes.get(..20).ok_or_else(bad)?;
    if &header[..8] != MAGIC {
        return Err(bad());
    }
    if header[8..16] != inputs_tag() {
        return Err(
            "the examples were made for other model inputs; retrain with this version".into()
        );
    }
    let count = u32::from_le_bytes([header[16], header[17], header[18], header[19]]) as usize;
    let mut at = 20;
    let mut word = |bytes: &[u8]| -> Result<[u8; 4], String> {
        let w = bytes.get(at..at + 4).ok_or_else(bad)?;
        at += 4;
        Ok([w[0], w[1], w[2], w[3]])
    };
    let mut ranges = Vec::with_capacity(N);
    for _ in 0..N {
        let lo = f32::from_le_bytes(word(bytes)?);
        let step = f32::from_le_bytes(word(bytes)?);
        ranges.push((lo, step));
    }
    let row = row_len();
    let body = bytes.get(at..).ok_or_else(bad)?;
    if body.len() != count * row {
        return Err(bad());
    }
    Ok(body
        .chunks_exact(row)
        .enumerate()
        .map(|(i, r)| {
            let mut x = Box::new([0f32; N]);
            let mut at = 1;
            for (j, &(lo, step)) in ranges.iter().enumerate() {
                let q = if width_of(j) == 2 {
                    u16::from_le_bytes([r[at], r[at + 1]])
                } else {
                    u16::from(r[at])
                };
                at += width_of(j);
                x[j] = lo + f32::from(q) * step;
            }
            Example {
                set,
                file: String::new(),
                group: format!("shipped/{i}"),
                start_s: 0.0,
                x,
                y: f64::from(r[0]),
                patch: None,
            }
        })
        .collect())
}

/// The examples the shipped model was trained on.
pub fn shipped_examples(set: usize) -> Result<Vec<Example>, String> {
    decode_examples(SHIPPED_EXAMPLES, set)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(y: f64, v: f32) -> Example {
        let mut x = Box::new([0f32; N]);
        for (j, slot) in x.iter_mut().enumerate() {
            *slot = v * (j as f32 + 1.0) - 3.0;
        }
        Example::of(x, y)
    }

    #[test]
    fn examples_survive_their_file_form_to_within_the_quantisation_step() {
        let examples = [example(1.0, 0.5), example(0.0, -2.25), example(0.0, 7.0)];
        let refs: Vec<&Example> = examples.iter().collect();
        let back = decode_examples(&encode_examples(&refs), 3).expect("decode");
        assert_eq!(back.len(), 3);
        for (a, b) in examples.iter().zip(&back) {
            assert_eq!(a.y, b.y);
            assert_eq!(b.set, 3);
            for j in 0..N {
                let range = 9.25 * (j as f32 + 1.0);
                let levels = if j < SCALAR_INPUTS { 65535.0 } else { 255.0 };
                assert!((a.x[j] - b.x[j]).abs() <= range / levels / 2.0 + 1e-4, "{j}");
            }
        }
        let mut broken = encode_examples(&refs);
        broken.truncate(broken.len() - 1);
        assert!(decode_examples(&broken, 0).is_err());
    }

    #[test]
    fn the_shipped_examples_load() {
        let examples = shipped_examples(0).expect("shipped examples");
        assert!(examples.len() > 1000);
        assert!(examples.iter().any(|e| e.y > 0.5) && examples.iter().any(|e| e.y < 0.5));
    }
}
