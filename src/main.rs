//! Command-line front end. The work lives in the library; this file parses arguments,
//! calls it, prints a summary and maps the outcome to an exit status:
//! 0 all files fine, 2 some files failed (the index is still written), 1 nothing done.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use blastscan::detect::DetectorParams;
use blastscan::link::{link, LinkConfig};
use blastscan::pipeline::{scan, ScanConfig};
use blastscan::{discover, eval, export, messages, model, Error};
use chrono::FixedOffset;

#[derive(Parser, Debug)]
#[command(name = "blastscan", version, about = "Find probable explosions in field recordings")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Decode recordings, detect transients, classify them and write the index.
    Scan(ScanArgs),
    /// Score an index against your own reference labels (file,onset_s,offset_s,class).
    Eval(EvalArgs),
}

#[derive(Args, Debug)]
struct EvalArgs {
    /// The scan's output folder (or its index.json).
    out: PathBuf,
    /// Reference labels: CSV with file,onset_s,offset_s,class (class `explosion` for blasts;
    /// `thunder` and `fireworks` are ignored).
    #[arg(long)]
    labels: PathBuf,
    /// A detection within this many seconds of a reference onset is a hit.
    #[arg(long, default_value_t = eval::COLLAR_S)]
    collar: f64,
    /// `text` for people, `json` for machines.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Text,
    Json,
}

#[derive(Args, Debug)]
struct ScanArgs {
    /// Files or folders to scan (folders are walked recursively).
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Output folder for index.json and detections.csv.
    #[arg(long, short, default_value = "blastscan-out")]
    out: PathBuf,
    /// Worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// No progress bar and no summary.
    #[arg(long, short)]
    quiet: bool,
    /// Confidence at or above which a transient is labelled `explosion`.
    #[arg(long, default_value_t = DetectorParams::default().threshold)]
    threshold: f32,
    /// Folder of transcripts named like the recordings (`NAME.srt`, `.vtt`, `.json`,
    /// `.txt`); transcripts beside the recordings are always used.
    #[arg(long, value_name = "DIR")]
    transcripts: Option<PathBuf>,
    /// A manifest CSV (file,sent_at,...), WhatsApp `_chat.txt` or Telegram `result.json`
    /// giving when each recording was sent. Repeatable; earlier ones win. Such files
    /// inside scanned folders are found on their own.
    #[arg(long, value_name = "FILE")]
    messages: Vec<PathBuf>,
    /// The UTC offset chat-export times are in (e.g. `+03:00`); times are then written
    /// with it. Without it they stay the phone's local time, written without an offset.
    #[arg(long, value_name = "OFFSET", value_parser = parse_timezone)]
    timezone: Option<FixedOffset>,
    /// Message times (manifest, chat exports) mark when recording started, not when it
    /// was sent (the default: a voice note is sent when it ends).
    #[arg(long)]
    sent_at_start: bool,
}

fn parse_timezone(text: &str) -> Result<FixedOffset, String> {
    messages::parse_offset(text)
        .ok_or_else(|| format!("`{text}` is not a UTC offset; write it like +03:00, -0430 or UTC"))
}

impl ScanArgs {
    /// Validates the raw flags into a scan configuration.
    fn to_config(&self) -> Result<ScanConfig, Error> {
        if self.threads == Some(0) {
            return Err(Error::Usage("--threads must be at least 1".into()));
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
            model: model::DEFAULT_MODEL,
            threads: self.threads,
            progress: !self.quiet && std::io::stderr().is_terminal(),
        })
    }
}

fn main() -> ExitCode {
    // Bad arguments exit 1 like every other "nothing could be done" case (clap's own
    // convention, 2, is this tool's "some files failed").
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(1) } else { ExitCode::SUCCESS };
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("blastscan: {e}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, Error> {
    match cli.command {
        Command::Scan(args) => run_scan(&args),
        Command::Eval(args) => run_eval(&args),
    }
}

fn run_scan(args: &ScanArgs) -> Result<ExitCode, Error> {
    let config = args.to_config()?;
    export::prepare_out_dir(&args.out)?;
    let mut warnings = Vec::new();
    let inputs = discover::discover(&args.inputs, &mut warnings)?;
    for w in &warnings {
        eprintln!("blastscan: {w}");
    }
    if inputs.is_empty() {
        eprintln!("blastscan: no recordings found under the given paths");
    }
    let mut outcome = scan(&inputs, &config)?;
    let mut message_files = args.messages.clone();
    message_files.extend(discover::message_files(&args.inputs));
    message_files.dedup();
    let link_config = LinkConfig {
        transcripts: args.transcripts.clone(),
        messages: message_files,
        timezone: args.timezone,
        sent_at_start: args.sent_at_start,
    };
    let link_warnings = link(&mut outcome.index, &inputs, &link_config);
    for w in link_warnings.iter().take(20) {
        eprintln!("blastscan: warning: {w}");
    }
    if link_warnings.len() > 20 {
        eprintln!(
            "blastscan: {} more warnings in index.json (link_warnings)",
            link_warnings.len() - 20
        );
    }
    let [json, csv] = export::write_index(&args.out, &outcome.index)?;
    let s = &outcome.index.summary;
    if !args.quiet {
        let secs = outcome.elapsed.as_secs_f64();
        eprintln!(
            "{} files ({} failed), {:.2} h of audio, {} detections ({} probable explosions) in {:.1} s ({:.0}x realtime)",
            s.files,
            s.failed,
            s.audio_hours,
            s.detections,
            s.explosions,
            secs,
            s.audio_hours * 3600.0 / secs.max(1e-9)
        );
        eprintln!("wrote {} and {}", json.display(), csv.display());
    }
    Ok(if s.failed > 0 { ExitCode::from(2) } else { ExitCode::SUCCESS })
}

fn run_eval(args: &EvalArgs) -> Result<ExitCode, Error> {
    if !(args.collar.is_finite() && args.collar >= 0.0) {
        return Err(Error::Usage("--collar must be a number of seconds, 0 or more".into()));
    }
    let index_path =
        if args.out.is_dir() { args.out.join(export::INDEX_JSON) } else { args.out.clone() };
    let index = export::read_index(&index_path)?;
    let labels = eval::Labels::read(&args.labels)?;
    let report = eval::evaluate(&index, &labels, args.collar);
    match args.format {
        Format::Json => {
            let json = serde_json::to_string_pretty(&report)
                .map_err(|e| Error::Usage(format!("cannot encode the report: {e}")))?;
            println!("{json}");
        }
        Format::Text => print!("{}", eval::render_text(&report, index.detector.threshold)),
    }
    Ok(ExitCode::SUCCESS)
}
