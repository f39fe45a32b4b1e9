//! The command line: every subcommand's flags, parsed by clap, and their checks.

use std::io::IsTerminal;
use std::path::PathBuf;

use chrono::FixedOffset;
use clap::{Args, Parser, Subcommand};

use blastscan::batch::pipeline::{self, ScanConfig};
use blastscan::detect::model;
use blastscan::detect::DetectorParams;
use blastscan::index::IncidentOverrides;
use blastscan::link::dates;
use blastscan::{eval, Error};

#[derive(Parser, Debug)]
#[command(name = "blastscan", version, about = "Find probable explosions in field recordings")]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Decode recordings, detect transients, classify them and write the index.
    Scan(ScanArgs),
    /// Score an index against your own reference labels (file,onset_s,offset_s,class).
    Eval(EvalArgs),
    /// Write the HTML report (OUT/report/index.html) with spectrograms and audio.
    Report(ReportArgs),
    /// Cut a WAV clip around each detection (OUT/clips/, with clips.csv).
    Clips(ClipsArgs),
    /// Write Audacity label tracks, Raven selection tables and SRT/WebVTT subtitles
    /// (OUT/labels/).
    Labels(LabelsArgs),
    /// List the detections that match a date range, a confidence, words, a recording.
    Query(QueryArgs),
    /// Union several output folders (e.g. the shards of a cluster run) into one.
    Merge(MergeArgs),
    /// Make a model for your own material: label a few recordings (as for `eval`) and get
    /// a model file for `scan --model`, trained on the shipped examples plus yours.
    Train(TrainArgs),
}

#[derive(Args, Debug)]
pub(crate) struct TrainArgs {
    /// Your recordings (files or folders); those the labels name are used.
    #[arg(required = true)]
    pub(crate) recordings: Vec<PathBuf>,
    /// Your labels: CSV with file,onset_s,offset_s,class (class `explosion` for blasts,
    /// anything else for other sounds; `thunder` and `fireworks` are left out).
    #[arg(long)]
    pub(crate) labels: PathBuf,
    /// The model file to write.
    #[arg(long, short, default_value = "blastscan-model.json")]
    pub(crate) out: PathBuf,
}

#[derive(Args, Debug)]
pub(crate) struct MergeArgs {
    /// Output folders to merge.
    #[arg(required = true)]
    pub(crate) stores: Vec<PathBuf>,
    /// The merged output folder (its own index, if any, is kept and added to).
    #[arg(long, short)]
    pub(crate) out: PathBuf,
    /// How blasts are grouped (default: as the first folder's index grouped them).
    #[command(flatten)]
    pub(crate) incidents: IncidentArgs,
}

/// How blasts are grouped into sequences and incidents.
#[derive(Args, Debug, Clone, Copy)]
pub(crate) struct IncidentArgs {
    /// Blasts of one recording closer than this many seconds form one sequence
    /// [default: 60].
    #[arg(long, value_name = "SECONDS")]
    pub(crate) sequence_gap: Option<f64>,
    /// Sequences of different recordings whose estimated times come within this many
    /// seconds form one incident (ten times wider for file modification times; a
    /// day-only date spans its day) [default: 180].
    #[arg(long, value_name = "SECONDS")]
    pub(crate) incident_tolerance: Option<f64>,
}

impl IncidentArgs {
    /// The flags given, checked.
    pub(crate) fn overrides(&self) -> Result<IncidentOverrides, Error> {
        let check = |value: Option<f64>, flag: &str| match value {
            Some(v) if !(v.is_finite() && v >= 0.0) => {
                Err(Error::Usage(format!("{flag} must be a number of seconds, 0 or more")))
            }
            _ => Ok(value),
        };
        Ok(IncidentOverrides {
            sequence_gap_s: check(self.sequence_gap, "--sequence-gap")?,
            tolerance_s: check(self.incident_tolerance, "--incident-tolerance")?,
        })
    }
}

#[derive(Args, Debug)]
pub(crate) struct ReportArgs {
    /// The scan's output folder.
    pub(crate) out: PathBuf,
    /// Show every detection at or above this confidence (default: probable explosions).
    #[arg(long, value_name = "X")]
    pub(crate) min_confidence: Option<f32>,
}

#[derive(Args, Debug)]
pub(crate) struct ClipsArgs {
    /// The scan's output folder.
    pub(crate) out: PathBuf,
    /// Seconds of audio kept before the onset and after the tail.
    #[arg(long, default_value_t = 3.0)]
    pub(crate) pad: f64,
    /// Cut every detection at or above this confidence (default: probable explosions).
    #[arg(long, value_name = "X")]
    pub(crate) min_confidence: Option<f32>,
    /// Cut the blasts of this incident only (an id from incidents.csv), into
    /// OUT/clips/ID/ with its own clips.csv.
    #[arg(long, value_name = "ID")]
    pub(crate) incident: Option<String>,
}

#[derive(Args, Debug)]
pub(crate) struct LabelsArgs {
    /// The scan's output folder.
    pub(crate) out: PathBuf,
    /// Include every detection at or above this confidence (default: probable explosions).
    #[arg(long, value_name = "X")]
    pub(crate) min_confidence: Option<f32>,
}

#[derive(Args, Debug)]
pub(crate) struct QueryArgs {
    /// The scan's output folder (or its index.json).
    pub(crate) out: PathBuf,
    /// Sent on or after this date or time (2024-03-13, 2024-03-13T23:00).
    #[arg(long)]
    pub(crate) from: Option<String>,
    /// Sent on or before this date or time (a date includes the whole day).
    #[arg(long)]
    pub(crate) to: Option<String>,
    /// Confidence at least this (default: probable explosions only).
    #[arg(long, value_name = "X")]
    pub(crate) min_confidence: Option<f32>,
    /// Words that must all appear in the transcript around the detection.
    #[arg(long)]
    pub(crate) text: Option<String>,
    /// Recording path pattern, e.g. 'night2/*.opus'.
    #[arg(long, value_name = "GLOB")]
    pub(crate) recording: Option<String>,
    /// Blasts of this incident only (an id from incidents.csv, e.g. I-20240313-2314).
    #[arg(long, value_name = "ID")]
    pub(crate) incident: Option<String>,
    /// Output format (default: a table on a terminal, CSV otherwise).
    #[arg(long, value_enum)]
    pub(crate) format: Option<QueryFormat>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum QueryFormat {
    Table,
    Csv,
    Json,
}

#[derive(Args, Debug)]
pub(crate) struct EvalArgs {
    /// The scan's output folder (or its index.json).
    pub(crate) out: PathBuf,
    /// Reference labels: CSV with file,onset_s,offset_s,class (class `explosion` for blasts;
    /// `thunder` and `fireworks` are ignored).
    #[arg(long)]
    pub(crate) labels: PathBuf,
    /// A detection within this many seconds of a reference onset is a hit.
    #[arg(long, default_value_t = eval::COLLAR_S)]
    pub(crate) collar: f64,
    /// `text` for people, `json` for machines.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub(crate) format: Format,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    Text,
    Json,
}

#[derive(Args, Debug)]
pub(crate) struct ScanArgs {
    /// Files or folders to scan (folders are walked recursively).
    #[arg(required = true)]
    pub(crate) inputs: Vec<PathBuf>,
    /// Output folder for index.json and detections.csv.
    #[arg(long, short, default_value = "blastscan-out")]
    pub(crate) out: PathBuf,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub(crate) threads: Option<usize>,
    /// No progress bar and no summary.
    #[arg(long, short)]
    pub(crate) quiet: bool,
    /// The closing summary: a line on stderr (`text`) or a JSON object on stdout (`json`,
    /// for scripts; printed even with --quiet).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub(crate) summary: Format,
    /// Confidence at or above which a transient is labelled `explosion`.
    #[arg(long, default_value_t = DetectorParams::default().threshold)]
    pub(crate) threshold: f32,
    /// Folder of transcripts named like the recordings (`NAME.srt`, `.vtt`, `.json`,
    /// `.txt`); transcripts beside the recordings are always used.
    #[arg(long, value_name = "DIR")]
    pub(crate) transcripts: Option<PathBuf>,
    /// A manifest CSV (file,sent_at,...), WhatsApp `_chat.txt` or Telegram `result.json`
    /// giving when each recording was sent. Repeatable; earlier ones win. Such files
    /// inside scanned folders are found on their own.
    #[arg(long, value_name = "FILE")]
    pub(crate) messages: Vec<PathBuf>,
    /// The UTC offset chat-export times are in (e.g. `+03:00`); times are then written
    /// with it. Without it they stay the phone's local time, written without an offset.
    #[arg(long, value_name = "OFFSET", value_parser = dates::parse_timezone, allow_hyphen_values = true)]
    pub(crate) timezone: Option<FixedOffset>,
    /// Message times (manifest, chat exports) mark when recording started, not when it
    /// was sent (the default: a voice note is sent when it ends).
    #[arg(long)]
    pub(crate) sent_at_start: bool,
    /// Also write the HTML report (OUT/report/index.html).
    #[arg(long)]
    pub(crate) report: bool,
    /// A model file to classify with instead of the shipped one (made by the trainer,
    /// like `models/default.json`). Results are stored per model.
    #[arg(long, value_name = "FILE")]
    pub(crate) model: Option<PathBuf>,
    /// Analyse only share I of N (0 <= I < N, chosen by file content), e.g.
    /// `--shard $SLURM_ARRAY_TASK_ID/8`; merge the N outputs with `blastscan merge`.
    #[arg(long, value_name = "I/N", value_parser = pipeline::parse_shard)]
    pub(crate) shard: Option<(u32, u32)>,
    /// How blasts are grouped into sequences and incidents.
    #[command(flatten)]
    pub(crate) incidents: IncidentArgs,
}

impl ScanArgs {
    /// Validates the raw flags into a scan configuration.
    pub(crate) fn to_config(&self) -> Result<ScanConfig, Error> {
        let most = max_threads();
        match self.threads {
            Some(0) => return Err(Error::Usage("--threads must be at least 1".into())),
            Some(n) if n > most => {
                return Err(Error::Usage(format!(
                    "--threads must be at most {most} (4 per core): more threads only add memory and switching, not speed"
                )))
            }
            _ => {}
        }
        if !(0.0..=1.0).contains(&self.threshold) {
            return Err(Error::Usage("--threshold must be between 0 and 1".into()));
        }
        if let Some(path) = self.messages.iter().find(|p| !p.is_file()) {
            return Err(Error::MissingInput(path.clone()));
        }
        if let Some(dir) = self.transcripts.as_ref().filter(|d| !d.is_dir()) {
            return Err(Error::MissingInput(dir.clone()));
        }
        let params = DetectorParams { threshold: self.threshold, ..DetectorParams::default() };
        Ok(ScanConfig {
            params,
            model: match &self.model {
                Some(path) => model::load(path)?,
                None => *model::DEFAULT_MODEL,
            },
            threads: self.threads,
            progress: !self.quiet && std::io::stderr().is_terminal(),
            shard: self.shard,
        })
    }
}

/// The most worker threads a scan may start: four per core.
pub(crate) fn max_threads() -> usize {
    4 * std::thread::available_parallelism().map_or(1, usize::from)
}
