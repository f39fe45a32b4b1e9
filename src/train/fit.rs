//! Fitting the two halves of the model: the logistic regression by Newton-Raphson (IRLS)
//! on standardised inputs with an L2 penalty, the trees by Newton boosting on
//! quantile-binned inputs; Platt scaling; a small dense solver.

// Matrix code reads best with explicit indices.
#![allow(clippy::needless_range_loop)]

use super::example::{Example, N};
use crate::detect::classify::{Boosted, Linear, Model, Tree, TREE_LEAVES, TREE_SPLITS};

/// L2 penalty on the standardised weights of the logistic regression (in units of summed
/// log-loss). Chosen by the recording-held-out cross-validation printed below (tried 3,
/// 10, 30, 100 for the regression alone).
const L2: f64 = 30.0;
/// Boosting rounds (trees), the shrinkage of each tree, the fewest examples a leaf may
/// hold, the L2 penalty on leaf values, and quantile bins per input. Chosen by the
/// recording-held-out cross-validation printed below (see the README).
const TREES: usize = 300;
const LEARNING_RATE: f64 = 0.05;
const MIN_LEAF: usize = 10;
const LAMBDA: f64 = 1.0;
const BINS: usize = 64;

/// Fits both halves of the model to the same examples (uncalibrated).
pub fn fit(examples: &[&Example]) -> Model {
    Model {
        linear: fit_linear(examples),
        boosted: fit_boosted(examples),
        calibration: (1.0, 0.0),
        ensemble: None,
    }
}

/// Fits the logistic regression: Newton-Raphson (IRLS) on standardised inputs with an
/// L2 penalty.
fn fit_linear(examples: &[&Example]) -> Linear {
    let n = examples.len() as f64;
    let mut mean = [0f32; N];
    let mut scale = [0f32; N];
    for j in 0..N {
        let m = examples.iter().map(|e| f64::from(e.x[j])).sum::<f64>() / n;
        let v = examples.iter().map(|e| (f64::from(e.x[j]) - m).powi(2)).sum::<f64>() / n;
        mean[j] = m as f32;
        scale[j] = v.sqrt().max(1e-3) as f32;
    }
    let dim = N + 1;
    let rows: Vec<Vec<f64>> = examples
        .iter()
        .map(|e| {
            let mut r = vec![1.0; dim];
            for j in 0..N {
                r[j + 1] = f64::from((e.x[j] - mean[j]) / scale[j]);
            }
            r
        })
        .collect();
    let mut w = vec![0f64; dim];
    for _ in 0..30 {
        let mut grad = vec![0f64; dim];
        let mut hess = vec![vec![0f64; dim]; dim];
        for (r, e) in rows.iter().zip(examples) {
            let z: f64 = r.iter().zip(&w).map(|(a, b)| a * b).sum();
            let p = 1.0 / (1.0 + (-z).exp());
            let q = p * (1.0 - p);
            for a in 0..dim {
                grad[a] += (p - e.y) * r[a];
                let qa = q * r[a];
                for b in a..dim {
                    hess[a][b] += qa * r[b];
                }
            }
        }
        for a in 0..dim {
            for b in 0..a {
                hess[a][b] = hess[b][a];
            }
        }
        for a in 1..dim {
            grad[a] += L2 * w[a];
            hess[a][a] += L2;
        }
        let step = solve(hess, grad);
        let mut change = 0.0;
        for a in 0..dim {
            w[a] -= step[a];
            change += step[a].abs();
        }
        if change < 1e-7 {
            break;
        }
    }
    let mut weights = [0f32; N];
    for j in 0..N {
        weights[j] = w[j + 1] as f32;
    }
    Linear { mean, scale, weights, bias: w[0] as f32 }
}

/// Fits gradient-boosted trees: each tree is grown on the gradient and hessian of the
/// log-loss at the current scores (Newton boosting), depth-first to [`crate::detect::classify::TREE_DEPTH`], on
/// inputs binned at their quantiles; a leaf adds `-G / (H + LAMBDA)`, shrunk by
/// [`LEARNING_RATE`].
fn fit_boosted(examples: &[&Example]) -> Boosted {
    let n = examples.len();
    let cuts: Vec<Vec<f32>> = (0..N).map(|j| cut_points(examples.iter().map(|e| e.x[j]))).collect();
    // bins[i * N + j]: how many cuts of input j lie below example i's value, so a split
    // at cut b sends the example left exactly when its bin is <= b.
    let bins: Vec<u8> = examples
        .iter()
        .flat_map(|e| {
            cuts.iter().enumerate().map(|(j, c)| c.partition_point(|&t| t < e.x[j]) as u8)
        })
        .collect();
    let share = examples.iter().map(|e| e.y).sum::<f64>() / n as f64;
    let share = share.clamp(1e-3, 1.0 - 1e-3);
    let base = (share / (1.0 - share)).ln();
    let mut score = vec![base; n];
    let mut trees = Vec::with_capacity(TREES);
    for _ in 0..TREES {
        let (g, h): (Vec<f64>, Vec<f64>) = examples
            .iter()
            .zip(&score)
            .map(|(e, &z)| {
                let p = 1.0 / (1.0 + (-z).exp());
                (p - e.y, (p * (1.0 - p)).max(1e-6))
            })
            .unzip();
        let tree = grow(&bins, &cuts, &g, &h);
        for (z, e) in score.iter_mut().zip(examples) {
            *z += f64::from(tree.eval(&e.x));
        }
        trees.push(tree);
    }
    // The trainer makes a dozen models and exits: leaking them keeps `Model` `Copy`, with
    // its trees in a `&'static` slice like the generated `src/model.rs`.
    Boosted { base: base as f32, trees: Box::leak(trees.into_boxed_slice()) }
}

/// Up to [`BINS`] thresholds for one input: midpoints between neighbouring distinct
/// quantiles of its values.
fn cut_points(values: impl Iterator<Item = f32>) -> Vec<f32> {
    let mut v: Vec<f32> = values.collect();
    v.sort_by(f32::total_cmp);
    v.dedup();
    if v.len() > BINS {
        let last = v.len() - 1;
        v = (0..=BINS).map(|k| v[k * last / BINS]).collect();
        v.dedup();
    }
    v.windows(2).map(|w| w[0] + (w[1] - w[0]) / 2.0).collect()
}

/// Grows one tree over all examples, breadth first.
fn grow(bins: &[u8], cuts: &[Vec<f32>], g: &[f64], h: &[f64]) -> Tree {
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); TREE_SPLITS + TREE_LEAVES];
    members[0] = (0..g.len()).collect();
    let mut splits = [(0u16, f32::INFINITY); TREE_SPLITS];
    for node in 0..TREE_SPLITS {
        let here = std::mem::take(&mut members[node]);
        let (left, right) = match best_split(&here, bins, cuts, g, h) {
            Some((j, b)) => {
                splits[node] = (j as u16, cuts[j][b]);
                here.iter().partition(|&&i| usize::from(bins[i * N + j]) <= b)
            }
            None => (here, Vec::new()),
        };
        members[2 * node + 1] = left;
        members[2 * node + 2] = right;
    }
    let mut leaves = [0f32; TREE_LEAVES];
    for (leaf, value) in leaves.iter_mut().enumerate() {
        let m = &members[TREE_SPLITS + leaf];
        let (gs, hs) = m.iter().fold((0.0, 0.0), |(a, b), &i| (a + g[i], b + h[i]));
        *value = (-gs / (hs + LAMBDA) * LEARNING_RATE) as f32;
    }
    Tree { splits, leaves }
}

/// The `(input, cut)` that most lowers the regularised loss, leaving at least
/// [`MIN_LEAF`] examples on each side; `None` if no split helps.
fn best_split(
    members: &[usize],
    bins: &[u8],
    cuts: &[Vec<f32>],
    g: &[f64],
    h: &[f64],
) -> Option<(usize, usize)> {
    if members.len() < 2 * MIN_LEAF {
        return None;
    }
    let gain_of = |gs: f64, hs: f64| gs * gs / (hs + LAMBDA);
    let (gt, ht) = members.iter().fold((0.0, 0.0), |(a, b), &i| (a + g[i], b + h[i]));
    let parent = gain_of(gt, ht);
    let mut best: Option<(f64, usize, usize)> = None;
    let mut hist: Vec<(f64, f64, usize)> = Vec::with_capacity(BINS + 1);
    for (j, c) in cuts.iter().enumerate() {
        if c.is_empty() {
            continue;
        }
        hist.clear();
        hist.resize(c.len() + 1, (0.0, 0.0, 0));
        for &i in members {
            let cell = &mut hist[usize::from(bins[i * N + j])];
            cell.0 += g[i];
            cell.1 += h[i];
            cell.2 += 1;
        }
        let (mut gl, mut hl, mut nl) = (0.0, 0.0, 0);
        for (b, cell) in hist[..c.len()].iter().enumerate() {
            gl += cell.0;
            hl += cell.1;
            nl += cell.2;
            if nl < MIN_LEAF || members.len() - nl < MIN_LEAF {
                continue;
            }
            let gain = gain_of(gl, hl) + gain_of(gt - gl, ht - hl) - parent;
            if gain > 1e-9 && best.is_none_or(|(top, _, _)| gain > top) {
                best = Some((gain, j, b));
            }
        }
    }
    best.map(|(_, j, b)| (j, b))
}

/// Fits `sigmoid(a * score + b)` to labels by Newton-Raphson (Platt 1999, "Probabilistic
/// outputs for support vector machines"), with Platt's smoothed targets.
pub fn platt(scores: &[f32], ys: &[f64]) -> (f32, f32) {
    let pos = ys.iter().filter(|y| **y > 0.5).count() as f64;
    let neg = ys.len() as f64 - pos;
    let (hi, lo) = ((pos + 1.0) / (pos + 2.0), 1.0 / (neg + 2.0));
    let (mut a, mut b) = (1.0f64, 0.0f64);
    for _ in 0..100 {
        let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 1e-9, 0.0, 1e-9);
        for (&z, &y) in scores.iter().zip(ys) {
            let z = f64::from(z);
            let t = if y > 0.5 { hi } else { lo };
            let p = 1.0 / (1.0 + (-(a * z + b)).exp());
            let q = p * (1.0 - p);
            ga += (p - t) * z;
            gb += p - t;
            haa += q * z * z;
            hab += q * z;
            hbb += q;
        }
        let det = haa * hbb - hab * hab;
        if det.abs() < 1e-12 {
            break;
        }
        let da = (hbb * ga - hab * gb) / det;
        let db = (haa * gb - hab * ga) / det;
        a -= da;
        b -= db;
        if da.abs() + db.abs() < 1e-9 {
            break;
        }
    }
    (a as f32, b as f32)
}

/// Gaussian elimination with partial pivoting.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for c in 0..n {
        let p = (c..n).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs())).unwrap_or(c);
        a.swap(c, p);
        b.swap(c, p);
        let d = a[c][c];
        if d.abs() < 1e-12 {
            continue;
        }
        for r in 0..n {
            if r != c {
                let f = a[r][c] / d;
                if f == 0.0 {
                    continue;
                }
                for k in c..n {
                    a[r][k] -= f * a[c][k];
                }
                b[r] -= f * b[c];
            }
        }
    }
    (0..n).map(|i| if a[i][i].abs() < 1e-12 { 0.0 } else { b[i] / a[i][i] }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic uniform number in [-1, 1) (xorshift), for synthetic examples.
    fn uniform(state: &mut u32) -> f32 {
        *state ^= *state << 13;
        *state ^= *state >> 17;
        *state ^= *state << 5;
        *state as f32 / u32::MAX as f32 * 2.0 - 1.0
    }

    /// Examples whose label is decided by `rule` over inputs 0 and 1 (uniform in [-1, 1));
    /// inputs 2-7 are noise, the rest 0.
    fn synthetic(n: usize, seed: u32, rule: impl Fn(f32, f32) -> bool) -> Vec<Example> {
        let mut state = 2_463_534_242u32 ^ seed.wrapping_mul(2_654_435_761);
        (0..n)
            .map(|_| {
                let mut x = Box::new([0f32; N]);
                for slot in x.iter_mut().take(8) {
                    *slot = uniform(&mut state);
                }
                let y = if rule(x[0], x[1]) { 1.0 } else { 0.0 };
                Example::of(x, y)
            })
            .collect()
    }

    fn accuracy(examples: &[Example], score: impl Fn(&[f32; N]) -> f32) -> f64 {
        let right = examples.iter().filter(|e| (score(&e.x) > 0.0) == (e.y > 0.5)).count();
        right as f64 / examples.len() as f64
    }

    #[test]
    fn gaussian_elimination_solves_a_system_that_needs_pivoting() {
        // The first pivot is 0: without row exchanges this would divide by zero.
        let a = vec![vec![0.0, 2.0, 1.0], vec![1.0, 1.0, 0.0], vec![3.0, 0.0, 1.0]];
        let x = [1.5, -2.0, 0.25];
        let b: Vec<f64> = a.iter().map(|r| r.iter().zip(&x).map(|(p, q)| p * q).sum()).collect();
        let solved = solve(a, b);
        for (got, want) in solved.iter().zip(x) {
            assert!((got - want).abs() < 1e-12, "{solved:?}");
        }
    }

    #[test]
    fn the_regression_finds_a_linear_boundary_and_ignores_noise_inputs() {
        let train = synthetic(800, 1, |a, b| a + 0.5 * b > 0.1);
        let refs: Vec<&Example> = train.iter().collect();
        let linear = fit_linear(&refs);
        let test = synthetic(400, 2, |a, b| a + 0.5 * b > 0.1);
        let right = accuracy(&test, |x| linear.score(x));
        assert!(right > 0.95, "{right}");
        // Weights are per standardised input: the deciding two dominate the noise.
        let w: Vec<f32> = linear.weights.iter().map(|w| w.abs()).collect();
        let noise = w[2..8].iter().fold(0f32, |m, &v| m.max(v));
        assert!(w[0] > 5.0 * noise && w[1] > 2.0 * noise, "{:?}", &w[..4]);
        assert!(w[0] > w[1], "input 0 counts twice as much as input 1");
    }

    #[test]
    fn boosted_trees_learn_an_interaction_the_regression_cannot() {
        // Opposite quadrants: no straight line separates them.
        let rule = |a: f32, b: f32| (a > 0.0) == (b > 0.0);
        let train = synthetic(1500, 3, rule);
        let refs: Vec<&Example> = train.iter().collect();
        let test = synthetic(600, 4, rule);
        let boosted = fit_boosted(&refs);
        let linear = fit_linear(&refs);
        let trees = accuracy(&test, |x| boosted.score(x));
        let line = accuracy(&test, |x| linear.score(x));
        assert!(trees > 0.9, "trees {trees}");
        assert!(line < 0.7, "a line should fail here: {line}");
    }
}
