//! The small convolutional network that reads a candidate's log-band patch.
//!
//! Input: a [`patch`](crate::detect::features::patch), 160 steps of 20 ms x 16 sub-bands. The
//! bands are the channels and the network convolves over time (a time-delay network,
//! Waibel et al. 1989, "Phoneme recognition using time-delay neural networks"; log-band
//! patches as in Piczak 2015):
//!
//! ```text
//! conv 5 steps x 16 bands -> W, ReLU, max-pool 2   (160 -> 80 steps)
//! conv 5 x W -> W, ReLU, max-pool 2                (80 -> 40)
//! conv 5 x W -> W, ReLU                            (40)
//! mean and max over time (2W) -> one log-odds
//! ```
//!
//! It is trained offline by `training/train_cnn.py` (numpy) on the trainer's patches and
//! stored in the model file; see MODEL.md. The classifier averages its log-odds with the
//! feature model's ([`crate::detect::classify::Model`]). Convolutions use zero padding of two
//! steps at each end ("same" output length), as the trainer does.

use serde::{Deserialize, Serialize};

use crate::detect::features::{PATCH_LEN, PATCH_STEPS};
use crate::detect::stft::SUB_BANDS;

/// Steps each convolution spans.
pub const KERNEL: usize = 5;

/// The network's weights, as stored in a model file. A weight matrix `w` of a
/// convolution is `(KERNEL * inputs) x outputs`, row `k * inputs + c` for step offset
/// `k - 2` and input channel `c`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Network {
    /// Channels of every convolution.
    pub width: usize,
    /// First convolution (16 sub-bands in).
    pub w1: Vec<f32>,
    /// Its biases.
    pub b1: Vec<f32>,
    /// Second convolution.
    pub w2: Vec<f32>,
    /// Its biases.
    pub b2: Vec<f32>,
    /// Third convolution.
    pub w3: Vec<f32>,
    /// Its biases.
    pub b3: Vec<f32>,
    /// Weights of the means, then of the maxima, over time.
    pub wd: Vec<f32>,
    /// Intercept of the output.
    pub bd: f32,
}

impl Network {
    /// Checks every length and that all weights are finite.
    pub fn check(&self) -> Result<(), String> {
        let w = self.width;
        if !(1..=256).contains(&w) {
            return Err(format!("network width {w} is outside 1..=256"));
        }
        let expect = [
            ("w1", self.w1.len(), KERNEL * SUB_BANDS * w),
            ("b1", self.b1.len(), w),
            ("w2", self.w2.len(), KERNEL * w * w),
            ("b2", self.b2.len(), w),
            ("w3", self.w3.len(), KERNEL * w * w),
            ("b3", self.b3.len(), w),
            ("wd", self.wd.len(), 2 * w),
        ];
        for (name, got, want) in expect {
            if got != want {
                return Err(format!("network `{name}` has {got} values, not {want}"));
            }
        }
        let all = [&self.w1, &self.b1, &self.w2, &self.b2, &self.w3, &self.b3, &self.wd];
        if all.iter().flat_map(|v| v.iter()).chain([&self.bd]).any(|v| !v.is_finite()) {
            return Err("the network holds a value that is not a finite number".into());
        }
        Ok(())
    }

    /// Log-odds of an explosion from a patch.
    pub fn log_odds(&self, patch: &[f32; PATCH_LEN]) -> f32 {
        let w = self.width;
        let first = Conv { w: &self.w1, b: &self.b1, inputs: SUB_BANDS, outputs: w };
        let second = Conv { w: &self.w2, b: &self.b2, inputs: w, outputs: w };
        let third = Conv { w: &self.w3, b: &self.b3, inputs: w, outputs: w };
        let h = conv_relu(patch, PATCH_STEPS, first);
        let h = max_pool(&h, w);
        let h = conv_relu(&h, PATCH_STEPS / 2, second);
        let h = max_pool(&h, w);
        let steps = PATCH_STEPS / 4;
        let h = conv_relu(&h, steps, third);
        // Every channel's sum and maximum over time in one pass over the steps (each
        // channel's terms in step order, as a pass per channel would take them).
        let (mut sums, mut maxima) = (vec![0.0f32; w], vec![f32::MIN; w]);
        for row in h.chunks_exact(w) {
            for ((s, m), &v) in sums.iter_mut().zip(maxima.iter_mut()).zip(row) {
                *s += v;
                *m = m.max(v);
            }
        }
        let mut z = self.bd;
        for c in 0..w {
            z += self.wd[c] * sums[c] / steps as f32 + self.wd[w + c] * maxima[c];
        }
        z
    }
}

/// One convolution's weights (`KERNEL * inputs` rows of `outputs`, see [`Network`]) and
/// biases.
#[derive(Debug, Clone, Copy)]
struct Conv<'a> {
    w: &'a [f32],
    b: &'a [f32],
    inputs: usize,
    outputs: usize,
}

/// A "same" convolution over time with zero padding, then ReLU. `x` is `steps x inputs`
/// (time-major), the result `steps x outputs`.
///
/// On x86-64 CPUs with AVX2 the same code is compiled a second time for them and chosen at
/// run time: the inner loop runs over the outputs, so wider vectors do the same
/// additions in the same order and the result is bit for bit the same.
fn conv_relu(x: &[f32], steps: usize, conv: Conv) -> Vec<f32> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has just been found to support AVX2, the only requirement of
        // `conv_relu_avx2`.
        return unsafe { conv_relu_avx2(x, steps, conv) };
    }
    conv_relu_portable(x, steps, conv)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn conv_relu_avx2(x: &[f32], steps: usize, conv: Conv) -> Vec<f32> {
    conv_relu_portable(x, steps, conv)
}

#[inline(always)]
fn conv_relu_portable(x: &[f32], steps: usize, conv: Conv) -> Vec<f32> {
    match conv.outputs {
        8 => conv_relu_fixed::<8>(x, steps, conv),
        16 => conv_relu_fixed::<16>(x, steps, conv),
        32 => conv_relu_fixed::<32>(x, steps, conv),
        _ => conv_relu_any(x, steps, conv),
    }
}

/// [`conv_relu`] for any number of outputs.
#[inline(always)]
fn conv_relu_any(x: &[f32], steps: usize, conv: Conv) -> Vec<f32> {
    let Conv { w, b, inputs, outputs } = conv;
    let half = KERNEL / 2;
    // Start every output step at the biases, then add each input row's contribution
    // through the weight rows of the kernel offsets it reaches: one pass over the input.
    let mut out: Vec<f32> = b.iter().copied().cycle().take(steps * outputs).collect();
    for (s, row) in x.chunks_exact(inputs).take(steps).enumerate() {
        for k in 0..KERNEL {
            // Input step s feeds output step t = s + half - k.
            let Some(t) = (s + half).checked_sub(k).filter(|&t| t < steps) else { continue };
            let acc = &mut out[t * outputs..(t + 1) * outputs];
            let rows = &w[k * inputs * outputs..(k + 1) * inputs * outputs];
            for (&v, weights) in row.iter().zip(rows.chunks_exact(outputs)) {
                for (a, &wt) in acc.iter_mut().zip(weights) {
                    *a += v * wt;
                }
            }
        }
    }
    for a in &mut out {
        *a = a.max(0.0);
    }
    out
}

/// [`conv_relu`] for `N` outputs with the sums of output steps held in registers. The
/// sums of a step take their terms in the order [`conv_relu_any`] adds them (input steps
/// rising, then input channels), so both give the same bits.
///
/// Away from the ends, [`BLOCK`] output steps are computed together: one output's terms
/// form a chain of dependent additions, so a step alone waits on the adder's latency; four
/// independent chains fill that wait and share each weight load.
#[inline(always)]
fn conv_relu_fixed<const N: usize>(x: &[f32], steps: usize, conv: Conv) -> Vec<f32> {
    let Conv { w, b, inputs, .. } = conv;
    let half = KERNEL / 2;
    let mut bias = [0.0f32; N];
    bias.copy_from_slice(&b[..N]);
    let mut out = Vec::with_capacity(steps * N);
    let mut t = 0;
    while t < steps {
        // Input steps t - half ..= t + BLOCK - 1 + half must all exist for a block.
        if t >= half && t + BLOCK + half <= steps {
            let rows = &x[(t - half) * inputs..(t + BLOCK + half) * inputs];
            let [mut a0, mut a1, mut a2, mut a3] = [bias; BLOCK];
            for (k, kernel) in w.chunks_exact(inputs * N).take(KERNEL).enumerate() {
                // Output step t + j reads input step t + j + k - half through offset k.
                let row = |j: usize| &rows[(j + k) * inputs..(j + k + 1) * inputs];
                let (r0, r1, r2, r3) = (row(0), row(1), row(2), row(3));
                let inputs = kernel.chunks_exact(N).zip(r0).zip(r1).zip(r2).zip(r3);
                for ((((weights, &v0), &v1), &v2), &v3) in inputs {
                    for (o, &wt) in weights.iter().enumerate() {
                        a0[o] += v0 * wt;
                        a1[o] += v1 * wt;
                        a2[o] += v2 * wt;
                        a3[o] += v3 * wt;
                    }
                }
            }
            for a in [a0, a1, a2, a3] {
                out.extend(a.map(|a| a.max(0.0)));
            }
            t += BLOCK;
            continue;
        }
        let mut acc = bias;
        // Input step s reaches output step t through kernel offset k = s + half - t.
        for s in t.saturating_sub(half)..(t + half + 1).min(steps) {
            let k = s + half - t;
            let row = &x[s * inputs..(s + 1) * inputs];
            let rows = &w[k * inputs * N..(k + 1) * inputs * N];
            for (&v, weights) in row.iter().zip(rows.chunks_exact(N)) {
                for (a, &wt) in acc.iter_mut().zip(weights) {
                    *a += v * wt;
                }
            }
        }
        out.extend(acc.map(|a| a.max(0.0)));
        t += 1;
    }
    out
}

/// Output steps a convolution computes together (see [`conv_relu_fixed`]).
const BLOCK: usize = 4;

/// Maximum of each pair of steps (`x` is `steps x channels`, `steps` even).
fn max_pool(x: &[f32], channels: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(x.len() / 2);
    for pair in x.chunks_exact(2 * channels) {
        let (a, b) = pair.split_at(channels);
        out.extend(a.iter().zip(b).map(|(a, b)| a.max(*b)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A naive reading of the architecture, index by index, to check the fast code.
    fn naive(net: &Network, patch: &[f32]) -> f32 {
        let w = net.width;
        let conv =
            |x: &dyn Fn(i64, usize) -> f32, steps: usize, cin: usize, wt: &[f32], b: &[f32]| {
                let mut out = vec![vec![0f32; w]; steps];
                for (t, row) in out.iter_mut().enumerate() {
                    for (o, v) in row.iter_mut().enumerate() {
                        let mut a = b[o];
                        for k in 0..KERNEL {
                            for c in 0..cin {
                                a += x(t as i64 + k as i64 - 2, c) * wt[(k * cin + c) * w + o];
                            }
                        }
                        *v = a.max(0.0);
                    }
                }
                out
            };
        let get = |v: &Vec<Vec<f32>>| {
            let v = v.clone();
            move |t: i64, c: usize| {
                if t < 0 || t as usize >= v.len() {
                    0.0
                } else {
                    v[t as usize][c]
                }
            }
        };
        let pool = |v: Vec<Vec<f32>>| {
            v.chunks(2)
                .map(|p| (0..w).map(|c| p[0][c].max(p[1][c])).collect())
                .collect::<Vec<Vec<f32>>>()
        };
        let input = |t: i64, c: usize| {
            if t < 0 || t as usize >= PATCH_STEPS {
                0.0
            } else {
                patch[t as usize * SUB_BANDS + c]
            }
        };
        let h1 = pool(conv(&input, PATCH_STEPS, SUB_BANDS, &net.w1, &net.b1));
        let h2 = pool(conv(&get(&h1), PATCH_STEPS / 2, w, &net.w2, &net.b2));
        let h3 = conv(&get(&h2), PATCH_STEPS / 4, w, &net.w3, &net.b3);
        let mut z = net.bd;
        for c in 0..w {
            let mean = h3.iter().map(|r| r[c]).sum::<f32>() / h3.len() as f32;
            let max = h3.iter().map(|r| r[c]).fold(f32::MIN, f32::max);
            z += net.wd[c] * mean + net.wd[w + c] * max;
        }
        z
    }

    fn wave(n: usize, a: f32) -> Vec<f32> {
        (0..n).map(|i| (i as f32 * a).sin() * 0.3).collect()
    }

    #[test]
    fn the_network_computes_what_its_architecture_says() {
        let w = 3;
        let net = Network {
            width: w,
            w1: wave(KERNEL * SUB_BANDS * w, 0.37),
            b1: vec![0.05, -0.1, 0.0],
            w2: wave(KERNEL * w * w, 1.3),
            b2: vec![0.0, 0.1, -0.05],
            w3: wave(KERNEL * w * w, 0.71),
            b3: vec![0.02, 0.0, 0.1],
            wd: vec![0.5, -0.25, 1.0, 0.3, -0.7, 0.2],
            bd: -0.4,
        };
        net.check().expect("valid");
        let mut patch = [0f32; PATCH_LEN];
        for (i, v) in patch.iter_mut().enumerate() {
            *v = ((i * 7919) % 101) as f32 / 50.0 - 1.0;
        }
        let (fast, slow) = (net.log_odds(&patch), naive(&net, &patch));
        assert!((fast - slow).abs() < 1e-4, "{fast} vs {slow}");
        let mut bad = net.clone();
        bad.w2.pop();
        assert!(bad.check().unwrap_err().contains("w2"));
        bad = net;
        bad.bd = f32::NAN;
        assert!(bad.check().unwrap_err().contains("finite"));
    }

    #[test]
    fn the_fixed_width_convolutions_give_the_bits_of_the_general_one() {
        let (steps, inputs) = (40, 16);
        let x = wave(steps * inputs, 0.53);
        for outputs in [8, 16, 32] {
            let w = wave(KERNEL * inputs * outputs, 0.91);
            let b = wave(outputs, 2.1);
            let conv = Conv { w: &w, b: &b, inputs, outputs };
            let general = conv_relu_any(&x, steps, conv);
            let fixed = conv_relu_portable(&x, steps, conv);
            assert_eq!(general.len(), steps * outputs);
            assert!(general.iter().zip(&fixed).all(|(a, b)| a.to_bits() == b.to_bits()));
            // The dispatched version (AVX2 where the CPU has it) too.
            let dispatched = conv_relu(&x, steps, conv);
            assert!(general.iter().zip(&dispatched).all(|(a, b)| a.to_bits() == b.to_bits()));
            assert!(general.iter().any(|&v| v > 0.0), "ReLU left something");
        }
    }
}
