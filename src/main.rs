//! Command-line front end. The work lives in the library; this file parses arguments,
//! calls it, prints a summary and maps the outcome to an exit status:
//! 0 all files fine, 2 some files failed (the index is still written), 1 nothing done.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use blastscan::detect::DetectorParams;
use blastscan::pipeline::{scan, ScanConfig};
use blastscan::{discover, eval, export, model, Error};

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
    let cli = Cli::parse();
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
    let outcome = scan(&inputs, &config)?;
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
