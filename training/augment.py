#!/usr/bin/env python3
"""Physically based training recordings for blastscan (issue 14, item 2).

Renders labelled voice-note-like recordings from the training pool (`../shared/train/pool`,
never the evaluation sets or the reserved sources): explosions heard at a distance, under
real speech and street sound, through a phone codec; and the hard negatives (gunshots,
doors, knocks, claps, glass, handling, coughs) treated the same way, so that the model
cannot tell the classes apart by the rendering.

    python3 training/augment.py --pool ../shared/train/pool --out /tmp/aug --n 200 --seed 1

Each recording is 40-70 s at 16 kHz before encoding. What is applied, and why:

* **Distance** (explosions 50 m to 5 km, negatives 1 to 30 m, log-uniform): spherical
  spreading is folded into the level below; air absorption in dB grows with frequency
  squared and with distance (ISO 9613-1: about 2 dB/km at 1 kHz and 33 dB/km at 4 kHz
  at 20 C and 70 % humidity); ground and buildings in the way add a low-pass whose
  corner falls from 4 kHz at 50 m to about 300 Hz at 5 km (excess attenuation, Embleton
  1996). The pressure pulse of a far blast therefore arrives slow and dull.
* **A reverberant tail** as from streets and buildings: the event convolved with
  exponentially decaying noise (RT60 0.3-2.5 s; Schroeder's statistical model of late
  reverberation), the noise itself low-passed, at a direct-to-reverberant ratio that
  falls with distance (+10 dB near, -8 dB at 5 km).
* **Level under speech and street sound**: the event's loudest 100 ms is set at -10 to
  +15 dB over the speech bed's RMS (negatives -5 to +20 dB); beds are real speech from
  the pool (utterances back to back, short pauses, sometimes a second quieter talker)
  over street, domestic or wind ambience 12-30 dB under it.
* **Strike sequences**: a third of the explosions come with 1-3 more from the same or
  another clip 2-20 s later.
* **Clipping** (one recording in five): the mix is driven 3-12 dB past full scale and
  hard-clipped, as a phone's automatic gain does with a near blast.
* **Codec**: Opus 16 or 24 kbit/s, AAC 32 kbit/s, MP3 32 kbit/s, or WAV at 8 kHz, by ffmpeg.

Labels go to `labels.csv` (file,onset_s,offset_s,class,source) as in the evaluation sets:
`source` is the pool clip's source tag and file name, so source-held-out folds work.
Everything is drawn from `numpy.random.default_rng(seed + recording)`: the same command
gives the same recordings.
"""
import argparse
import csv
import os
import subprocess
import sys

import numpy as np

RATE = 16000
NEGATIVE_CLASSES = {
    "gunshot": "gunshot",
    "door": "impact",
    "knock": "impact",
    "clap": "impact",
    "glass": "impact",
    "handling": "impact",
    "human": "other",
}
AMBIENCE = ["street", "domestic", "wind", "nature"]
CODECS = [
    ("opus", ["-c:a", "libopus", "-b:a", "24k", "-application", "voip"], "opus"),
    ("opus16", ["-c:a", "libopus", "-b:a", "16k", "-application", "voip"], "opus"),
    ("aac", ["-c:a", "aac", "-b:a", "32k"], "m4a"),
    ("mp3", ["-c:a", "libmp3lame", "-b:a", "32k"], "mp3"),
    ("wav8k", ["-ar", "8000", "-c:a", "pcm_s16le"], "wav"),
]
_cache = {}


def decode(path):
    """The clip at RATE Hz, mono float32 (ffmpeg)."""
    if path not in _cache:
        raw = subprocess.run(
            ["ffmpeg", "-v", "error", "-i", path, "-ac", "1", "-ar", str(RATE), "-f", "f32le", "-"],
            check=True,
            capture_output=True,
        ).stdout
        _cache[path] = np.frombuffer(raw, dtype="<f4").astype(np.float64)
    return _cache[path]


def clips(pool, cls):
    folder = os.path.join(pool, cls)
    if not os.path.isdir(folder):
        return []
    return sorted(os.path.join(folder, f) for f in os.listdir(folder))


def source_of(path):
    name = os.path.basename(path)
    return f"{name.split('__')[0]}:{name}"


def spectral_filter(x, gain_of_hz):
    """x filtered by a zero-phase magnitude response gain_of_hz(frequencies)."""
    n = 1 << int(np.ceil(np.log2(len(x) + 1)))
    spectrum = np.fft.rfft(x, n)
    f = np.fft.rfftfreq(n, 1.0 / RATE)
    return np.fft.irfft(spectrum * gain_of_hz(f), n)[: len(x)]


def at_distance(x, metres):
    """Air absorption (dB ~ f^2 * distance, ISO 9613-1) and a ground/obstacle low-pass."""
    km = metres / 1000.0
    def gain(f):
        air_db = 33.0 * (f / 4000.0) ** 2 * km
        corner = 4000.0 * (50.0 / max(metres, 50.0)) ** 0.55
        ground = 1.0 / np.sqrt(1.0 + (f / corner) ** 4)
        return 10 ** (-air_db / 20) * ground

    return spectral_filter(x, gain)


def reverberate(x, rng, rt60, drr_db):
    """Late reverberation: x convolved with low-passed, exponentially decaying noise."""
    n = int(rt60 * RATE * 1.2)
    t = np.arange(n) / RATE
    tail = rng.standard_normal(n) * np.exp(-6.91 * t / rt60)
    tail = spectral_filter(tail, lambda f: 1.0 / np.sqrt(1.0 + (f / 2500.0) ** 2))
    tail[: int(0.005 * RATE)] = 0.0  # the first reflections arrive after the direct sound
    size = len(x) + n - 1
    fft_n = 1 << int(np.ceil(np.log2(size)))
    wet = np.fft.irfft(np.fft.rfft(x, fft_n) * np.fft.rfft(tail, fft_n), fft_n)[:size]
    direct = np.concatenate([x, np.zeros(len(wet) - len(x))])
    e_direct = np.sqrt(np.mean(direct**2)) + 1e-12
    e_wet = np.sqrt(np.mean(wet**2)) + 1e-12
    return direct + wet * (e_direct / e_wet) * 10 ** (-drr_db / 20)


def onset_of(x):
    """First 10 ms block within 25 dB of the loudest block: where the sound starts."""
    block = RATE // 100
    m = len(x) // block
    if m == 0:
        return 0
    e = (x[: m * block].reshape(m, block) ** 2).mean(axis=1) + 1e-12
    db = 10 * np.log10(e)
    return int(np.argmax(db > db.max() - 25)) * block


def loudest_100ms(x):
    block = RATE // 10
    if len(x) < block:
        return np.sqrt(np.mean(x**2) + 1e-12)
    c = np.cumsum(np.concatenate([[0.0], x**2]))
    return np.sqrt((c[block:] - c[:-block]).max() / block + 1e-12)


def speech_bed(rng, speech, seconds):
    out = np.zeros(int(seconds * RATE))
    at = int(rng.uniform(0, 1.0) * RATE)
    while at < len(out):
        u = decode(speech[rng.integers(len(speech))])
        u = u / (np.sqrt(np.mean(u**2)) + 1e-9) * 0.05
        end = min(len(out), at + len(u))
        out[at:end] += u[: end - at]
        at = end + int(rng.uniform(0.1, 0.8) * RATE)
    return out


def render(rng, pool, index, out_dir, speech, explosions, negatives, ambience):
    seconds = rng.uniform(40, 70)
    n = int(seconds * RATE)
    bed = speech_bed(rng, speech, seconds) if rng.random() < 0.85 else np.zeros(n)
    if rng.random() < 0.3:
        bed += 0.4 * speech_bed(rng, speech, seconds)
    amb = decode(ambience[rng.integers(len(ambience))])
    amb = np.resize(amb, n) if len(amb) else np.zeros(n)
    bed_rms = np.sqrt(np.mean(bed**2)) if bed.any() else 0.02
    amb = amb / (np.sqrt(np.mean(amb**2)) + 1e-9) * bed_rms * 10 ** (-rng.uniform(12, 30) / 20)
    mix = bed + amb
    labels = []
    busy_until = 2.0
    events = []
    while True:
        t = busy_until + rng.uniform(2.0, 14.0)
        if t > seconds - 4.0:
            break
        blast = rng.random() < 0.5
        if blast:
            clip = explosions[rng.integers(len(explosions))]
            repeats = rng.integers(1, 4) if rng.random() < 0.33 else 0
            events.append((t, clip, True))
            for _ in range(repeats):
                t += rng.uniform(2.0, 20.0)
                if t > seconds - 4.0:
                    break
                if rng.random() < 0.5:
                    clip = explosions[rng.integers(len(explosions))]
                events.append((t, clip, True))
        else:
            cls = list(NEGATIVE_CLASSES)[rng.integers(len(NEGATIVE_CLASSES))]
            clip = negatives[cls][rng.integers(len(negatives[cls]))]
            events.append((t, clip, NEGATIVE_CLASSES[cls]))
        busy_until = t
    for t, clip, kind in events:
        x = decode(clip)
        if len(x) == 0:
            continue
        x = x[onset_of(x):]
        x = x[: int(6 * RATE)]
        if kind is True:
            metres = float(np.exp(rng.uniform(np.log(50), np.log(5000))))
            snr_db = rng.uniform(-10, 15)
        else:
            metres = float(np.exp(rng.uniform(np.log(1), np.log(30))))
            snr_db = rng.uniform(-5, 20)
        x = at_distance(x, metres)
        drr = 10.0 - 18.0 * (np.log(metres) / np.log(5000))
        x = reverberate(x, rng, rng.uniform(0.3, 2.5), drr)
        x = x / loudest_100ms(x) * bed_rms * 10 ** (snr_db / 20)
        at = int(t * RATE)
        end = min(n, at + len(x))
        mix[at:end] += x[: end - at]
        duration = min(len(x) / RATE, 3.0)
        cls = "explosion" if kind is True else kind
        labels.append((t, min(t + duration, seconds), cls, source_of(clip)))
    if rng.random() < 0.2:
        mix = np.clip(mix / (np.abs(mix).max() + 1e-9) * 10 ** (rng.uniform(3, 12) / 20), -1, 1)
    else:
        mix = mix / (np.abs(mix).max() + 1e-9) * 10 ** (-rng.uniform(1, 12) / 20)
    name, codec_args, ext = CODECS[rng.integers(len(CODECS))]
    file = f"aug_{index:04d}.{ext}"
    pcm = (np.clip(mix, -1, 1) * 32767).astype("<i2").tobytes()
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "s16le", "-ar", str(RATE), "-ac", "1", "-i", "-"]
        + codec_args
        + [os.path.join(out_dir, file)],
        input=pcm,
        check=True,
    )
    return [(file, round(a, 3), round(b, 3), c, s) for a, b, c, s in labels]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pool", required=True, help="the training pool (shared/train/pool)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if "eval" in os.path.abspath(args.pool).split(os.sep):
        sys.exit("the pool must be training material, never an evaluation set")
    os.makedirs(args.out, exist_ok=True)
    speech = clips(args.pool, "speech")
    explosions = clips(args.pool, "explosion")
    negatives = {c: clips(args.pool, c) for c in NEGATIVE_CLASSES}
    negatives = {c: v for c, v in negatives.items() if v}
    ambience = [p for c in AMBIENCE for p in clips(args.pool, c)]
    if not (speech and explosions and negatives and ambience):
        sys.exit(f"{args.pool} lacks speech, explosion, negative or ambience clips")
    rows = []
    for i in range(args.n):
        rng = np.random.default_rng(args.seed * 100003 + i)
        rows += render(rng, args.pool, i, args.out, speech, explosions, negatives, ambience)
        if (i + 1) % 20 == 0:
            print(f"{i + 1}/{args.n} recordings", file=sys.stderr)
    with open(os.path.join(args.out, "labels.csv"), "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "onset_s", "offset_s", "class", "source"])
        w.writerows(rows)


if __name__ == "__main__":
    main()
