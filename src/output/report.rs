//! The HTML report: one page plus an `assets/` folder, opened from `file://` with no
//! server and no network.
//!
//! Recordings are ordered by message date. Each has a timeline strip with its detections
//! marked; each detection a card with its times, confidence, a spectrogram (-2 s to +6 s
//! around the onset, see [`crate::output::spectrogram`]), the transcript excerpt with context and
//! an audio player on the same 8 s clip. A little plain JavaScript filters the cards by
//! minimum confidence, date range and transcript text; the filters can also be set in
//! the address (`index.html?q=word&min=0.5&from=2024-03-01&to=2024-03-31`), so a filtered
//! view can be shared.
//!
//! Every piece of text that comes from outside (transcripts, names, file names, error
//! messages) goes through [`escape`]; nothing untrusted is ever placed in a script.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use crate::atomic::write_atomic;
use crate::batch::pipeline;
use crate::detect::resample::Resampler;
use crate::detect::Detection;
use crate::error::{AudioUnavailable, Error};
use crate::index::{Index, Recording};
use crate::link::dates::order_key;
use crate::output::audio::{fade, spans_of, wav_bytes};
pub use crate::output::html::escape;
use crate::output::row::selected;
use crate::output::spectrogram;
use crate::output::timeline;

/// Seconds of audio shown before the onset.
pub const BEFORE_S: f64 = 2.0;
/// Seconds of audio shown after the onset.
pub const AFTER_S: f64 = 6.0;

/// What the report shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReportOptions {
    /// Detections at or above this confidence; `None`: those labelled `explosion`.
    pub min_confidence: Option<f32>,
    /// Show a progress bar on stderr while the spectrograms are made.
    pub progress: bool,
}

/// What [`write_report`] made.
#[derive(Debug)]
pub struct ReportOutcome {
    /// The page.
    pub page: PathBuf,
    /// Detections shown.
    pub detections: usize,
    /// Recordings whose audio could not be read (their cards have no image or player).
    pub failures: Vec<(String, AudioUnavailable)>,
}

/// A detection's card data, with the names of its assets (if they could be made).
struct Card<'a> {
    id: usize,
    det: &'a Detection,
    assets: Option<Assets>,
}

/// Writes `dir/index.html` and its assets folder. Each run writes a new folder
/// (`assets-<run>/`) and removes the others only once the new page is in place, so a
/// killed run leaves the previous report whole.
pub fn write_report(
    index: &Index,
    dir: &Path,
    opts: &ReportOptions,
) -> Result<ReportOutcome, Error> {
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let folder = format!("assets-{run:x}");
    let assets = dir.join(&folder);
    std::fs::create_dir_all(&assets)
        .map_err(|source| Error::Write { path: assets.clone(), source })?;
    let mut recordings: Vec<&Recording> = index.recordings.iter().collect();
    // By time sent, as instants where known; undated last.
    let zone = index.timezone.as_deref();
    recordings.sort_by_cached_key(|r| {
        let when = r.sent_at.as_deref().and_then(|s| order_key(s, zone));
        (when.is_none(), when, r.path.clone())
    });
    // Card numbers are given in page order first; the audio work then runs in parallel.
    let mut planned: Vec<(&Recording, Vec<Card>)> = Vec::new();
    let mut next_id = 1;
    for rec in recordings.iter().copied() {
        let cards: Vec<Card> = rec
            .detections
            .iter()
            .filter(|d| selected(d, opts.min_confidence))
            .map(|det| {
                next_id += 1;
                Card { id: next_id - 1, det, assets: None }
            })
            .collect();
        if !cards.is_empty() {
            planned.push((rec, cards));
        }
    }
    let made = pipeline::par_map(&planned, "spectrograms", opts.progress, |(rec, cards)| {
        make_assets(rec, cards, &assets, &folder)
    });
    let mut failures = Vec::new();
    let mut sections = Vec::new();
    for ((rec, mut cards), made) in planned.into_iter().zip(made) {
        match made? {
            Ok(assets) => {
                for (card, made) in cards.iter_mut().zip(assets) {
                    card.assets = Some(made);
                }
            }
            Err(why) => failures.push((rec.path.clone(), why)),
        }
        sections.push((rec, cards));
    }
    let shown = next_id - 1;
    let html = page(index, &sections, &failures, opts);
    let page_path = dir.join("index.html");
    write_atomic(&page_path, html.as_bytes())?;
    remove_old_assets(dir, &folder);
    Ok(ReportOutcome { page: page_path, detections: shown, failures })
}

/// Removes asset folders of earlier reports (and the old single `assets/`); a folder
/// that cannot be removed only costs space.
fn remove_old_assets(dir: &Path, keep: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name != keep && (name == "assets" || name.starts_with("assets-")) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// A card's spectrogram and the audio it plays: a file and a time range in it.
struct Assets {
    image: String,
    audio: String,
    from_s: f64,
    to_s: f64,
}

/// Cuts each card's 8 s of audio and writes its spectrogram; the audio of overlapping or
/// touching windows is written once, as one segment the cards play a range of (detections
/// come in bursts: sharing saves most of the audio). Returns the cards' assets, or why the
/// recording's audio could not be read.
fn make_assets(
    rec: &Recording,
    cards: &[Card],
    assets: &Path,
    folder: &str,
) -> Result<Result<Vec<Assets>, AudioUnavailable>, Error> {
    let windows: Vec<(f64, f64)> = cards
        .iter()
        .map(|c| ((c.det.start_s - BEFORE_S).max(0.0), c.det.start_s + AFTER_S))
        .collect();
    let mut segments: Vec<(f64, f64)> = Vec::new();
    for &(from, to) in &windows {
        match segments.last_mut() {
            Some(last) if from <= last.1 => last.1 = last.1.max(to),
            _ => segments.push((from, to)),
        }
    }
    let spans = match spans_of(rec, &segments) {
        Ok(spans) => spans,
        Err(why) => return Ok(Err(why)),
    };
    let first = cards.first().map_or(0, |c| c.id);
    let mut made = Vec::with_capacity(cards.len());
    let mut segment = 0;
    for (card, &(from, to)) in cards.iter().zip(&windows) {
        while segments[segment].1 < to && segment + 1 < segments.len() {
            segment += 1;
        }
        let span = &spans[segment];
        let audio = format!("a{first:05}_{segment}.wav");
        if made.last().is_none_or(|m: &Assets| !m.audio.ends_with(&audio)) {
            write_atomic(&assets.join(&audio), &snippet(&span.samples, span.rate)?)?;
        }
        let rate = f64::from(span.rate.max(1));
        let at = |t: f64| (((t - span.start_s) * rate).max(0.0) as usize).min(span.samples.len());
        let window = &span.samples[at(from)..at(to)];
        let image = format!("d{:05}.png", card.id);
        let (png, _) = spectrogram::render_png(window, span.rate, card.det.start_s - from)?;
        write_atomic(&assets.join(&image), &png)?;
        made.push(Assets {
            image: format!("{folder}/{image}"),
            audio: format!("{folder}/{audio}"),
            from_s: from - span.start_s,
            to_s: to - span.start_s,
        });
    }
    Ok(Ok(made))
}

/// The audio cards play: 8 kHz, 16-bit mono WAV (128 kB for 8 s, against 768 kB at
/// 48 kHz): telephone bandwidth keeps speech intelligible and a blast's low-frequency
/// energy intact. Full-rate audio is what `blastscan clips` is for.
fn snippet(samples: &[f32], rate: u32) -> Result<Vec<u8>, Error> {
    let mut resampler = Resampler::between(rate, SNIPPET_RATE);
    let mut audio = Vec::with_capacity(samples.len() / (rate / SNIPPET_RATE).max(1) as usize + 64);
    resampler.process(samples, &mut audio);
    resampler.finish(&mut audio);
    fade(&mut audio, SNIPPET_RATE);
    wav_bytes(&audio, SNIPPET_RATE)
}

/// Sample rate of the report's audio snippets, Hz.
pub const SNIPPET_RATE: u32 = 8_000;

fn page(
    index: &Index,
    sections: &[(&Recording, Vec<Card>)],
    failures: &[(String, AudioUnavailable)],
    opts: &ReportOptions,
) -> String {
    let mut h = String::with_capacity(64 * 1024);
    let cards: Vec<&Card> = sections.iter().flat_map(|(_, c)| c).collect();
    let s = &index.summary;
    let what = match opts.min_confidence {
        Some(min) => format!("every detection with confidence at least {min}"),
        None => format!("probable explosions (confidence at least {})", index.detector.threshold),
    };
    // Writing into a String cannot fail.
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>blastscan report</title><style>{STYLE}{}</style></head><body>\n\
<header><h1>blastscan report</h1><p class=\"muted\">Showing {}. Made by blastscan {} from \
{} recordings.</p>",
        timeline::STYLE,
        escape(&what),
        escape(&index.tool_version),
        s.files,
    );
    if let Some(note) = &index.time_note {
        let _ = write!(h, "<p class=\"warn\" id=\"time-note\">Note: {}.</p>", escape(note));
    }
    let mut first_card = timeline::CardOf::new();
    for (rec, cards) in sections {
        for card in cards {
            if let Some(id) = &card.det.incident {
                first_card.entry((rec.path.clone(), id.clone())).or_insert(card.id);
            }
        }
    }
    timeline::write(&mut h, index, &first_card);
    let _ = write!(
        h,
        "<section id=\"summary\"><div class=\"stat\"><b>{:.2} h</b> of audio</div>\
<div class=\"stat\"><b>{}</b> recordings ({} could not be analysed)</div>\
<div class=\"stat\"><b>{}</b> detections shown</div>",
        s.audio_hours,
        s.files,
        s.failed,
        cards.len()
    );
    h.push_str("<table class=\"bands\"><tr><th>confidence</th><th>detections</th></tr>");
    for (lo, hi) in [(0.9, 1.01), (0.7, 0.9), (0.5, 0.7), (0.3, 0.5), (0.0, 0.3)] {
        let n = cards.iter().filter(|c| (lo..hi).contains(&f64::from(c.det.confidence))).count();
        let _ = write!(h, "<tr><td>{lo:.1} - {:.1}</td><td>{n}</td></tr>", hi.min(1.0));
    }
    h.push_str("</table><table class=\"days\"><tr><th>day sent</th><th>detections</th></tr>");
    let mut per_day: BTreeMap<String, usize> = BTreeMap::new();
    for (rec, c) in sections {
        *per_day.entry(day_of(rec).unwrap_or_else(|| "undated".into())).or_default() += c.len();
    }
    for (day, n) in &per_day {
        let _ = write!(h, "<tr><td>{}</td><td>{n}</td></tr>", escape(day));
    }
    h.push_str("</table></section>\n");
    h.push_str(
        "</header><form id=\"filters\" onsubmit=\"return false\">\
<label>Minimum confidence <input id=\"min\" type=\"number\" min=\"0\" max=\"1\" step=\"0.05\" value=\"0\"></label>\
<label>Sent from <input id=\"from\" type=\"date\"></label>\
<label>to <input id=\"to\" type=\"date\"></label>\
<label>Transcript contains <input id=\"q\" type=\"search\" placeholder=\"word\"></label>\
<span id=\"count\"></span></form>\n<main>\n",
    );
    for (rec, cards) in sections {
        section(&mut h, rec, cards);
    }
    let partial: Vec<(&Recording, String)> = index
        .recordings
        .iter()
        .filter(|r| r.error.is_none())
        .filter_map(|r| Some((r, r.partial_decode()?)))
        .collect();
    if !failures.is_empty() || s.failed > 0 || !partial.is_empty() {
        h.push_str("<section class=\"problems\"><h2>Problems</h2><ul>");
        for (rec, why) in &partial {
            let _ = write!(
                h,
                "<li><b>{}</b>: partly decoded, detections may be missing: {}</li>",
                escape(&rec.path),
                escape(why)
            );
        }
        for (path, why) in failures {
            let _ = write!(
                h,
                "<li><b>{}</b>: audio for the report not available: {}</li>",
                escape(path),
                escape(&why.to_string())
            );
        }
        for rec in index.recordings.iter().filter(|r| r.error.is_some()) {
            let why = rec.error.as_deref().unwrap_or_default();
            let _ = write!(
                h,
                "<li><b>{}</b>: could not be analysed: {}</li>",
                escape(&rec.path),
                escape(why)
            );
        }
        h.push_str("</ul></section>");
    }
    let _ = write!(h, "</main>\n<script>{SCRIPT}</script>\n</body></html>\n");
    h
}

fn day_of(rec: &Recording) -> Option<String> {
    rec.sent_at.as_deref().map(|s| s.chars().take(10).collect())
}

fn section(h: &mut String, rec: &Recording, cards: &[Card]) {
    let day = day_of(rec).unwrap_or_default();
    let _ = write!(
        h,
        "<section class=\"recording\" data-date=\"{}\"><h2>{}</h2><p class=\"meta\">",
        escape(&day),
        escape(&rec.path)
    );
    match &rec.sent_at {
        Some(sent) => {
            let source = rec.date_source.map(|s| s.as_str()).unwrap_or("unknown");
            let _ = write!(
                h,
                "sent {} <span class=\"muted\">(from {})</span>",
                escape(sent),
                escape(source)
            );
        }
        None => h.push_str("date unknown"),
    }
    if let Some(sender) = &rec.sender {
        let _ = write!(h, " · by {}", escape(sender));
    }
    if let Some(chat) = &rec.chat {
        let _ = write!(h, " · in {}", escape(chat));
    }
    let _ = write!(h, " · {:.1} s · {}", rec.duration_s, escape(&rec.codec));
    if let Some(note) = &rec.date_note {
        let _ = write!(h, "<br><span class=\"muted\">{}</span>", escape(note));
    }
    if let Some(why) = rec.partial_decode() {
        let _ = write!(h, "<br><span class=\"warn\">partly decoded: {}</span>", escape(&why));
    }
    h.push_str("</p><div class=\"timeline\" title=\"whole recording\">");
    let duration = rec.duration_s.max(1e-6);
    for c in cards {
        let left = (c.det.peak_s / duration * 100.0).clamp(0.0, 100.0);
        let _ = write!(
            h,
            "<a class=\"mark\" href=\"#det-{}\" style=\"left:{left:.2}%\" data-conf=\"{:.3}\" title=\"{:.2} s, confidence {:.2}\"></a>",
            c.id, c.det.confidence, c.det.peak_s, c.det.confidence
        );
    }
    h.push_str("</div>\n");
    for c in cards {
        card(h, rec, c, &day);
    }
    h.push_str("</section>\n");
}

fn card(h: &mut String, rec: &Recording, c: &Card, day: &str) {
    let d = c.det;
    let t = d.transcript.as_ref();
    let search: String = [
        t.map(|t| t.context_before.as_str()),
        t.map(|t| t.text.as_str()),
        t.map(|t| t.context_after.as_str()),
        Some(rec.path.as_str()),
    ]
    .iter()
    .flatten()
    .copied()
    .collect::<Vec<_>>()
    .join(" ")
    .to_lowercase();
    let _ = write!(
        h,
        "<article class=\"det\" id=\"det-{}\" data-conf=\"{:.3}\" data-date=\"{}\" data-text=\"{}\">\
<div class=\"facts\"><span class=\"conf\">{:.2}</span> {} at <b>{:.2} s</b> (onset {:.2} s)",
        c.id,
        d.confidence,
        escape(day),
        escape(&search),
        d.confidence,
        d.label.as_str(),
        d.peak_s,
        d.start_s
    );
    if let Some(wall) = &d.wall_clock_estimate {
        let _ =
            write!(h, " · about <b>{}</b> <span class=\"muted\">(estimated)</span>", escape(wall));
    }
    if d.clipped {
        h.push_str(" · <span class=\"warn\">clipped</span>");
    }
    if let Some(id) = &d.incident {
        let _ = write!(h, " · incident <a href=\"#{}\">{}</a>", timeline::anchor(id), escape(id));
    }
    h.push_str("</div>");
    match &c.assets {
        Some(a) => {
            let _ = write!(
                h,
                "<img src=\"{}\" alt=\"spectrogram, {BEFORE_S} s before to {AFTER_S} s after the onset\" \
width=\"1000\" height=\"256\" loading=\"lazy\" decoding=\"async\" data-decoded=\"pending\" \
onload=\"this.dataset.decoded='yes'\" onerror=\"this.dataset.decoded='no'\">\
<audio controls preload=\"none\" src=\"{}#t={:.2},{:.2}\"></audio>",
                escape(&a.image),
                escape(&a.audio),
                a.from_s,
                a.to_s
            );
        }
        None => h.push_str("<p class=\"warn\">Audio not available (see Problems below).</p>"),
    }
    if let Some(t) = t {
        let gap = match t.gap_s {
            Some(g) if g > 0.0 => format!(" <span class=\"muted\">({g:.1} s away)</span>"),
            _ => String::new(),
        };
        let _ = write!(
            h,
            "<blockquote><span class=\"ctx\">{}</span> <b>{}</b>{gap} <span class=\"ctx\">{}</span></blockquote>",
            escape(&t.context_before),
            escape(&t.text),
            escape(&t.context_after)
        );
    }
    h.push_str("</article>\n");
}

const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#222;background:#fafafa}\
header{background:#fff;padding:12px 24px 4px}\
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:0;word-break:break-all}\
main{padding:12px 24px}.muted,.ctx{color:#777}.warn{color:#b00}\
#summary{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start;margin:8px 0}\
.stat{padding:6px 10px;background:#f0f0f0;border-radius:4px}\
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;padding:2px 8px;text-align:left}\
#filters{display:flex;flex-wrap:wrap;gap:12px;align-items:center;position:sticky;top:0;z-index:2;\
background:#fff;border-bottom:1px solid #ddd;padding:8px 24px}#filters input{width:8em}\
.recording{background:#fff;border:1px solid #ddd;border-radius:6px;padding:12px;margin:12px 0}\
.timeline{position:relative;height:14px;background:#e8e8e8;border-radius:3px;margin:8px 0}\
.mark{position:absolute;top:0;width:3px;height:14px;background:#c40;margin-left:-1px}\
.det{border-top:1px solid #eee;padding:10px 0}.conf{font-weight:bold;background:#fde8d8;padding:0 6px;border-radius:3px}\
.det img{display:block;width:100%;max-width:1000px;height:auto;margin:6px 0;image-rendering:pixelated}\
.det audio{width:100%;max-width:1000px}blockquote{margin:6px 0;padding-left:10px;border-left:3px solid #ccc}\
[hidden]{display:none!important}";

const SCRIPT: &str = r#"
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var params = new URLSearchParams(location.search);
  ["min", "from", "to", "q"].forEach(function (k) { if (params.has(k)) { $(k).value = params.get(k); } });
  var cards = Array.prototype.slice.call(document.querySelectorAll("article.det"));
  var sections = Array.prototype.slice.call(document.querySelectorAll("section.recording"));
  function apply() {
    var min = parseFloat($("min").value) || 0;
    var from = $("from").value, to = $("to").value;
    var words = $("q").value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    cards.forEach(function (c) {
      var day = c.dataset.date, text = c.dataset.text;
      var ok = parseFloat(c.dataset.conf) >= min &&
        (!from || (day && day >= from)) && (!to || (day && day <= to)) &&
        words.every(function (w) { return text.indexOf(w) >= 0; });
      c.hidden = !ok;
      if (ok) { shown++; }
    });
    sections.forEach(function (s) {
      s.hidden = !s.querySelector("article.det:not([hidden])");
    });
    $("count").textContent = shown + " of " + cards.length + " detections shown";
    document.body.dataset.shown = String(shown);
  }
  ["min", "from", "to", "q"].forEach(function (k) { $(k).addEventListener("input", apply); });
  apply();
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_leaves_no_markup() {
        let hostile = "<script>alert('x')</script> & \"quoted\"";
        let e = escape(hostile);
        assert_eq!(e, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quoted&quot;");
        assert!(!e.contains('<') && !e.contains('"') && !e.contains('\''));
    }
}
