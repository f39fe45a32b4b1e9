#!/usr/bin/env python3
"""Trains blastscan's small convolutional network over log-band patches (numpy only).

The patches come from the project's trainer:

    cargo run --release --example train -- --check --patches /tmp/patches \\
        ../shared/train/mixes ../shared/eval/dev
    python3 training/train_cnn.py /tmp/patches            # compare, source-held-out
    python3 training/train_cnn.py /tmp/patches --into models/default.json

Each example is one candidate transient: 160 steps of 20 ms (1.2 s before the onset to
2 s after) x 16 sub-bands, in dB over the band's background / 20 (see
`detect::features::patch`). The network reads the bands as channels and convolves over time
(a time-delay network, Waibel et al. 1989; the log-band input as in Piczak 2015):

    conv 5 x 16 -> 16, ReLU, max-pool 2      (160 -> 80 steps)
    conv 5 x 16 -> 16, ReLU, max-pool 2      (80 -> 40)
    conv 5 x 16 -> 16, ReLU                  (40)
    mean and max over time (32) -> one logit

Fitted by Adam (Kingma and Ba 2015) on the weighted log-loss, deterministic seeds. With
whole sound sources held out (the folds the Rust trainer wrote), it prints the network
alone, the feature model alone and the mean of their log-odds, each Platt-scaled on the
out-of-sample scores, at the default threshold 0.3, counted as the scorer counts
(recall over every labelled blast, candidates or not).
"""
import argparse
import csv
import json
import os
import sys

import numpy as np

T, C = 160, 16
K = 5
WIDTH = int(os.environ.get("CNN_WIDTH", 16))
EPOCHS = int(os.environ.get("CNN_EPOCHS", 16))
BATCH = 64
LR = 3e-3
WEIGHT_DECAY = 1e-4
POS_WEIGHT = float(os.environ.get("CNN_POS_WEIGHT", 4.0))
FOLDS = 8


def load(prefix):
    rows = list(csv.DictReader(open(prefix + ".csv", newline="")))
    x = np.fromfile(prefix + ".f32", dtype="<f4").reshape(len(rows), T, C)
    return rows, x


# ---- layers (time-major: N x T x C) ---------------------------------------------------
def conv_forward(x, w, b):
    n, t, c = x.shape
    pad = K // 2
    xp = np.pad(x, ((0, 0), (pad, pad), (0, 0)))
    cols = np.concatenate([xp[:, i:i + t, :] for i in range(K)], axis=2)  # n,t,K*c
    return cols @ w + b, cols


def conv_backward(dout, cols, w, c):
    n, t, _ = dout.shape
    dw = cols.reshape(-1, cols.shape[2]).T @ dout.reshape(-1, dout.shape[2])
    db = dout.sum(axis=(0, 1))
    dcols = dout @ w.T
    pad = K // 2
    dxp = np.zeros((n, t + 2 * pad, c), dtype=dout.dtype)
    for i in range(K):
        dxp[:, i:i + t, :] += dcols[:, :, i * c:(i + 1) * c]
    return dxp[:, pad:pad + t, :], dw, db


def pool_forward(x):
    n, t, c = x.shape
    r = x.reshape(n, t // 2, 2, c)
    out = r.max(axis=2)
    mask = r == out[:, :, None, :]
    return out, mask


def pool_backward(dout, mask):
    n, t2, c = dout.shape
    d = mask * dout[:, :, None, :]
    return d.reshape(n, t2 * 2, c)


def init(seed):
    rng = np.random.default_rng(seed)
    p = {}
    for name, cin in (("1", C), ("2", WIDTH), ("3", WIDTH)):
        p["w" + name] = (rng.standard_normal((K * cin, WIDTH)) * np.sqrt(2.0 / (K * cin))).astype(np.float32)
        p["b" + name] = np.zeros(WIDTH, dtype=np.float32)
    p["wd"] = (rng.standard_normal(2 * WIDTH) * np.sqrt(1.0 / (2 * WIDTH))).astype(np.float32)
    p["bd"] = np.zeros(1, dtype=np.float32)
    return p


def forward(p, x, keep=False):
    h1, c1 = conv_forward(x, p["w1"], p["b1"])
    r1 = np.maximum(h1, 0)
    q1, m1 = pool_forward(r1)
    h2, c2 = conv_forward(q1, p["w2"], p["b2"])
    r2 = np.maximum(h2, 0)
    q2, m2 = pool_forward(r2)
    h3, c3 = conv_forward(q2, p["w3"], p["b3"])
    r3 = np.maximum(h3, 0)
    mean = r3.mean(axis=1)
    mx = r3.max(axis=1)
    feat = np.concatenate([mean, mx], axis=1)
    z = feat @ p["wd"] + p["bd"][0]
    if not keep:
        return z
    return z, (x, h1, c1, m1, q1, h2, c2, m2, q2, h3, c3, r3, feat)


def backward(p, cache, dz):
    x, h1, c1, m1, q1, h2, c2, m2, q2, h3, c3, r3, feat = cache
    g = {}
    g["wd"] = feat.T @ dz
    g["bd"] = np.array([dz.sum()], dtype=np.float32)
    dfeat = dz[:, None] * p["wd"][None, :]
    dmean, dmax = dfeat[:, :WIDTH], dfeat[:, WIDTH:]
    t3 = r3.shape[1]
    dr3 = np.repeat(dmean[:, None, :] / t3, t3, axis=1)
    amax = r3.argmax(axis=1)
    n_idx = np.arange(r3.shape[0])[:, None]
    c_idx = np.arange(WIDTH)[None, :]
    np.add.at(dr3, (n_idx, amax, c_idx), dmax)
    dh3 = dr3 * (h3 > 0)
    dq2, g["w3"], g["b3"] = conv_backward(dh3, c3, p["w3"], WIDTH)
    dr2 = pool_backward(dq2, m2)
    dh2 = dr2 * (h2 > 0)
    dq1, g["w2"], g["b2"] = conv_backward(dh2, c2, p["w2"], WIDTH)
    dr1 = pool_backward(dq1, m1)
    dh1 = dr1 * (h1 > 0)
    _, g["w1"], g["b1"] = conv_backward(dh1, c1, p["w1"], C)
    return g


def fit(x, y, seed=0, log=None):
    rng = np.random.default_rng(seed + 1)
    p = init(seed)
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v = {k: np.zeros_like(val) for k, val in p.items()}
    weight = np.where(y > 0.5, POS_WEIGHT, 1.0).astype(np.float32)
    step = 0
    for epoch in range(EPOCHS):
        order = rng.permutation(len(y))
        lr = LR * (0.5 * (1 + np.cos(np.pi * epoch / EPOCHS)))
        total = 0.0
        for a in range(0, len(order), BATCH):
            idx = order[a:a + BATCH]
            xb = x[idx]
            # Augmentation: a shift of up to 2 steps (the onset's frame varies by codec)
            # and up to +-2 dB on the whole patch (the background estimate varies).
            shift = rng.integers(-2, 3)
            if shift:
                xb = np.roll(xb, shift, axis=1)
            xb = xb + rng.uniform(-0.1, 0.1, size=(len(idx), 1, 1)).astype(np.float32)
            z, cache = forward(p, xb, keep=True)
            prob = 1 / (1 + np.exp(-np.clip(z, -30, 30)))
            wb = weight[idx]
            total += float(-(wb * (y[idx] * np.log(prob + 1e-7) + (1 - y[idx]) * np.log(1 - prob + 1e-7))).sum())
            dz = (wb * (prob - y[idx]) / wb.sum()).astype(np.float32)
            g = backward(p, cache, dz)
            step += 1
            for k in p:
                gk = g[k] + WEIGHT_DECAY * p[k]
                m[k] = 0.9 * m[k] + 0.1 * gk
                v[k] = 0.999 * v[k] + 0.001 * gk * gk
                mhat = m[k] / (1 - 0.9 ** step)
                vhat = v[k] / (1 - 0.999 ** step)
                p[k] -= (lr * mhat / (np.sqrt(vhat) + 1e-8)).astype(np.float32)
        if log:
            log(f"  epoch {epoch + 1}: loss {total / weight.sum():.4f}")
    return p


def predict(p, x):
    return np.concatenate([forward(p, x[a:a + 1024]) for a in range(0, len(x), 1024)])


def platt(z, y):
    """Platt scaling: a, b minimising the log-loss of sigmoid(a z + b) (Newton)."""
    a, b = 1.0, 0.0
    for _ in range(50):
        q = 1 / (1 + np.exp(-(a * z + b)))
        r = q - y
        wgt = q * (1 - q) + 1e-9
        ga, gb = (r * z).sum(), r.sum()
        haa, hab, hbb = (wgt * z * z).sum() + 1e-6, (wgt * z).sum(), wgt.sum() + 1e-6
        det = haa * hbb - hab * hab
        da = (hbb * ga - hab * gb) / det
        db = (haa * gb - hab * ga) / det
        a, b = a - da, b - db
        if abs(da) + abs(db) < 1e-9:
            break
    return a, b


def logit(pr):
    pr = np.clip(pr, 1e-6, 1 - 1e-6)
    return np.log(pr / (1 - pr))


def figures(prob, y, blasts, threshold=0.3):
    hit = prob >= threshold
    tp = int((hit & (y > 0.5)).sum())
    fp = int((hit & (y < 0.5)).sum())
    precision = tp / max(tp + fp, 1)
    recall = tp / max(blasts, 1)
    f1 = 2 * precision * recall / max(precision + recall, 1e-9)
    return f"precision {precision:.3f} recall {recall:.3f} F1 {f1:.3f} ({tp} of {blasts} blasts, {fp} false alarms)"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("patches", help="folder written by the trainer's --patches")
    ap.add_argument(
        "--into",
        help="fit on everything and add the network, with the calibration of the mean fitted "
        "on the cross-validated scores, to this model file (written by the Rust trainer)",
    )
    args = ap.parse_args()
    rows, x = load(os.path.join(args.patches, "train"))
    sets = json.load(open(os.path.join(args.patches, "sets.json")))
    y = np.array([float(r["y"]) for r in rows], dtype=np.float32)
    fold = np.array([int(r["fold"]) for r in rows])
    setno = np.array([int(r["set"]) for r in rows])
    feat_z = logit(np.array([float(r["features_p"]) for r in rows]))
    print(f"{len(y)} candidates, {int(y.sum())} positive", file=sys.stderr)
    z = np.zeros(len(y))
    for f in range(FOLDS):
        train = fold != f
        p = fit(x[train], y[train], seed=f)
        z[~train] = predict(p, x[~train])
        print(f"fold {f + 1}/{FOLDS} done", file=sys.stderr)
    for name, score in (("features", feat_z), ("network", z), ("mean of both", (feat_z + z) / 2)):
        a, b = platt(score, y)
        prob = 1 / (1 + np.exp(-(a * score + b)))
        for s, (dir_, blasts) in enumerate(sets):
            sel = setno == s
            print(f"sources held out, {name}, {dir_} at 0.3: {figures(prob[sel], y[sel], blasts)}")
        total = sum(b for _, b in sets)
        print(f"sources held out, {name}, all training sets at 0.3: {figures(prob, y, total)}")
    calibration = platt((feat_z + z) / 2, y)
    prob = 1 / (1 + np.exp(-(calibration[0] * (feat_z + z) / 2 + calibration[1])))
    for lo, hi in ((0.9, 1.01), (0.7, 0.9), (0.5, 0.7), (0.3, 0.5), (0.1, 0.3), (0.0, 0.1)):
        band = (prob >= lo) & (prob < hi)
        n, b = int(band.sum()), int(y[band].sum())
        print(f"sources held out, mean of both, calibration {lo:.1f}-{min(hi, 1):.1f}: "
              f"{n} candidates, {b} blasts ({b / max(n, 1):.2f})")
    if args.into:
        p = fit(x, y, seed=100, log=lambda s: print(s, file=sys.stderr))
        model = json.load(open(args.into))
        check = ((np.arange(T * C) * 7919) % 101).astype(np.float32) / 50.0 - 1.0
        weights = {"width": WIDTH}
        for k in ("w1", "b1", "w2", "b2", "w3", "b3", "wd"):
            weights[k] = [float(v) for v in p[k].ravel()]
        weights["bd"] = float(p["bd"][0])
        model["network"] = {
            "calibration": [float(calibration[0]), float(calibration[1])],
            "weights": weights,
            "check_log_odds": float(forward(p, check.reshape(1, T, C))[0]),
        }
        with open(args.into + ".tmp", "w") as fh:
            json.dump(model, fh, indent=2)
            fh.write("\n")
        os.replace(args.into + ".tmp", args.into)
        print(f"added the network to {args.into}", file=sys.stderr)

if __name__ == "__main__":
    main()
