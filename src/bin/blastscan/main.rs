//! Command-line front end. The work lives in the library; this file parses arguments,
//! calls it, prints a summary and maps the outcome to an exit status:
//! 0 all files fine, 2 some files failed (the index is still written), 1 nothing done.

mod args;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Parser;

use blastscan::batch::{self, discover, store};
use blastscan::detect::{model, DetectorParams};
use blastscan::index::{IncidentSettings, Index};
use blastscan::link::LinkConfig;
use blastscan::output::{clips, export, names, query, report, tracks};
use blastscan::{eval, train, Error};

use args::{
    Cli, ClipsArgs, Command, EvalArgs, Format, MergeArgs, QueryArgs, QueryFormat, ScanArgs,
    TrainArgs,
};

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
        Command::Report(args) => {
            let index = load_index(&args.out)?;
            check_confidence(args.min_confidence)?;
            make_report(&index, &args.out, args.min_confidence)
        }
        Command::Clips(args) => run_clips(&args),
        Command::Labels(args) => {
            let index = load_index(&args.out)?;
            check_confidence(args.min_confidence)?;
            let dir = args.out.join("labels");
            let written = tracks::write_tracks(&index, &dir, args.min_confidence)?;
            eprintln!("wrote {} label files to {}", written.len(), dir.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Query(args) => run_query(&args),
        Command::Merge(args) => run_merge(&args),
        Command::Train(args) => run_train(&args),
    }
}

/// Set by Ctrl-C: no new file is started; a second Ctrl-C stops at once.
static CANCEL: AtomicBool = AtomicBool::new(false);

fn run_scan(args: &ScanArgs) -> Result<ExitCode, Error> {
    let scan = args.to_config()?;
    let link = LinkConfig {
        transcripts: args.transcripts.clone(),
        messages: args.messages.clone(),
        timezone: args.timezone,
        sent_at_start: args.sent_at_start,
    };
    let incidents = args.incidents.overrides()?.over(IncidentSettings::default());
    let job =
        batch::Batch { inputs: args.inputs.clone(), out: args.out.clone(), scan, link, incidents };
    let _ = ctrlc::set_handler(|| {
        if CANCEL.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("\nblastscan: stopping after the files in flight (Ctrl-C again to stop now)");
    });
    let started = std::time::Instant::now();
    let done = batch::run(&job, &export::Tables, &CANCEL)?;
    for w in &done.discovery_warnings {
        eprintln!("blastscan: {w}");
    }
    // Partly decoded files of this run: what was lost is evidence too.
    let partial: Vec<(&str, String)> = done
        .index
        .recordings
        .iter()
        .filter(|r| r.error.is_none())
        .filter_map(|r| Some((r.path.as_str(), r.partial_decode()?)))
        .collect();
    for (path, why) in partial.iter().take(20) {
        eprintln!("blastscan: {path}: partly decoded: {why}");
    }
    if partial.len() > 20 {
        eprintln!(
            "blastscan: {} more partly decoded files in index.json (decode_warnings)",
            partial.len() - 20
        );
    }
    if let Some(note) = &done.index.time_note {
        eprintln!("blastscan: note: {note}");
    }
    if let Some(e) = &done.prior_unreadable {
        eprintln!("blastscan: {e}; started a fresh index (stored results were still used)");
    }
    for w in done.link_warnings.iter().take(20) {
        eprintln!("blastscan: warning: {w}");
    }
    if done.link_warnings.len() > 20 {
        let more = done.link_warnings.len() - 20;
        eprintln!("blastscan: {more} more warnings in index.json (link_warnings)");
    }
    let report_status =
        if args.report { make_report(&done.index, &args.out, None)? } else { ExitCode::SUCCESS };
    let s = &done.index.summary;
    if args.summary == Format::Json {
        let summary = done.summary(started.elapsed().as_secs_f64());
        let json = serde_json::to_string_pretty(&summary)
            .map_err(|e| Error::Serialise { what: "the scan summary", reason: e.to_string() })?;
        println!("{json}");
    } else if !args.quiet {
        let failed_now = done.index.recordings.iter().filter(|r| r.error.is_some()).count();
        let mut line = format!("{} new", done.counts.new);
        if done.counts.duplicates > 0 {
            line.push_str(&format!(", {} duplicates of other files", done.counts.duplicates));
        }
        line.push_str(&format!(", {} unchanged, {failed_now} failed", done.counts.unchanged));
        if !partial.is_empty() {
            line.push_str(&format!(", {} partly decoded", partial.len()));
        }
        if !done.discovery_warnings.is_empty() {
            line.push_str(&format!(", {} paths not read", done.discovery_warnings.len()));
        }
        if done.counts.other_shards > 0 {
            line.push_str(&format!(", {} left to other shards", done.counts.other_shards));
        }
        // Speed counts the analysis; the time said is the whole run, report included.
        let speed = if done.counts.new_audio_s > 0.0 {
            let analysis = done.elapsed.as_secs_f64().max(1e-9);
            format!(" ({:.0}x realtime on the new audio)", done.counts.new_audio_s / analysis)
        } else {
            String::new()
        };
        let secs = started.elapsed().as_secs_f64();
        eprintln!(
            "{line}; the index holds {} files, {:.2} h of audio, {} detections ({} probable explosions in {} incidents); {secs:.1} s{speed}",
            s.files, s.audio_hours, s.detections, s.explosions, s.incidents,
        );
        let written: Vec<String> = done.written.iter().map(|p| p.display().to_string()).collect();
        eprintln!("wrote {}", written.join(" and "));
    }
    if done.counts.pending > 0 {
        eprintln!(
            "blastscan: interrupted: {} files not analysed yet; the work done is kept. Run the same command again to resume.",
            done.counts.pending
        );
        return Ok(ExitCode::from(130));
    }
    let incomplete = s.failed > 0 || !partial.is_empty() || !done.discovery_warnings.is_empty();
    Ok(if incomplete { ExitCode::from(2) } else { report_status })
}

fn run_merge(args: &MergeArgs) -> Result<ExitCode, Error> {
    let incidents = args.incidents.overrides()?;
    let (merged, report) = batch::merge(&args.stores, &args.out, incidents, &export::Tables)?;
    for (dir, recordings, copied) in report {
        eprintln!("{}: {recordings} recordings, {copied} stored results copied", dir.display());
    }
    eprintln!(
        "merged {} recordings into {}",
        merged.summary.files,
        args.out.join(store::INDEX_JSON).display()
    );
    Ok(ExitCode::SUCCESS)
}

fn run_train(args: &TrainArgs) -> Result<ExitCode, Error> {
    let labels = eval::Labels::read(&args.labels)?;
    let mut skipped = Vec::new();
    let inputs = discover::discover(&args.recordings, &mut skipped)?;
    for w in &skipped {
        eprintln!("blastscan: {w}");
    }
    let progress = std::io::stderr().is_terminal();
    let own = train::collect(
        0,
        &inputs,
        &labels,
        train::Scope::Named,
        DetectorParams::default(),
        progress,
    );
    for (path, why) in &own.failed {
        eprintln!("blastscan: {path}: {why}");
    }
    let mut used: Vec<&str> = own.examples.iter().map(|e| e.file.as_str()).collect();
    used.sort_unstable();
    used.dedup();
    if used.is_empty() || own.blasts == 0 {
        return Err(Error::Usage(format!(
            "{}: the labels name no explosion in these recordings (files are matched by name); label at least one blast with class `explosion`",
            args.labels.display()
        )));
    }
    let shipped = train::shipped_examples(1).map_err(|e| {
        Error::Usage(format!(
            "the shipped training examples cannot be read ({e}); reinstall blastscan"
        ))
    })?;
    eprintln!(
        "training on {} shipped examples and {} candidates from {} of your recordings ({} labelled blasts)...",
        shipped.len(),
        own.examples.len(),
        used.len(),
        own.blasts
    );
    let made = train::train_own(&own, &shipped, &model::DEFAULT_MODEL);
    let line = |[p, r, f, fp]: [f64; 4]| {
        format!("precision {p:.3} recall {r:.3} F1 {f:.3} ({fp:.0} false alarms)")
    };
    eprintln!("on your recordings at 0.3, the shipped model: {}", line(made.shipped));
    match made.cross_validated {
        Some(cv) => eprintln!(
            "on your recordings at 0.3, the new model, each recording held out of its fit: {}",
            line(cv)
        ),
        None => eprintln!(
            "one labelled recording only: no figure for the new model on recordings it has not seen; label more to get one"
        ),
    }
    if !made.own_calibration {
        eprintln!(
            "too few labelled candidates to calibrate on yours: the shipped calibration is kept"
        );
    }
    let file = model::ModelFile::of(&made.model, &[args.labels.display().to_string()]);
    let json = serde_json::to_vec_pretty(&file)
        .map_err(|e| Error::Serialise { what: "the model file", reason: e.to_string() })?;
    blastscan::atomic::write_atomic(&args.out, &json)?;
    eprintln!(
        "wrote {}; use it with `blastscan scan --model {}`",
        args.out.display(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn run_eval(args: &EvalArgs) -> Result<ExitCode, Error> {
    if !(args.collar.is_finite() && args.collar >= 0.0) {
        return Err(Error::Usage("--collar must be a number of seconds, 0 or more".into()));
    }
    let index = load_index(&args.out)?;
    let labels = eval::Labels::read(&args.labels)?;
    let report = eval::evaluate(&index, &labels, args.collar);
    match args.format {
        Format::Json => {
            let json = serde_json::to_string_pretty(&report).map_err(|e| Error::Serialise {
                what: "the evaluation report",
                reason: e.to_string(),
            })?;
            println!("{json}");
        }
        Format::Text => print!("{}", eval::render_text(&report, index.detector.threshold)),
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads `OUT/index.json` (or the index file given).
fn load_index(out: &std::path::Path) -> Result<Index, Error> {
    let path = if out.is_dir() { out.join(store::INDEX_JSON) } else { out.to_path_buf() };
    store::read_index(&path)
}

fn check_confidence(min: Option<f32>) -> Result<(), Error> {
    match min {
        Some(x) if !(0.0..=1.0).contains(&x) => {
            Err(Error::Usage("--min-confidence must be between 0 and 1".into()))
        }
        _ => Ok(()),
    }
}

fn make_report(
    index: &Index,
    out: &std::path::Path,
    min_confidence: Option<f32>,
) -> Result<ExitCode, Error> {
    let options =
        report::ReportOptions { min_confidence, progress: std::io::stderr().is_terminal() };
    let made = report::write_report(index, &out.join("report"), &options)?;
    for (path, why) in &made.failures {
        eprintln!("blastscan: {path}: no audio for the report: {why}");
    }
    eprintln!("wrote {} ({} detections)", made.page.display(), made.detections);
    if made.failures.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "blastscan: {} recordings have no audio in the report (their cards say so)",
            made.failures.len()
        );
        Ok(ExitCode::from(2))
    }
}

fn run_clips(args: &ClipsArgs) -> Result<ExitCode, Error> {
    check_confidence(args.min_confidence)?;
    if !(args.pad.is_finite() && (0.0..=600.0).contains(&args.pad)) {
        return Err(Error::Usage("--pad must be between 0 and 600 seconds".into()));
    }
    let index = load_index(&args.out)?;
    let mut dir = args.out.join("clips");
    if let Some(id) = &args.incident {
        query::check_incident(&index, id)?;
        dir = dir.join(names::sanitise(id));
    }
    let opts = clips::ClipOptions {
        pad_s: args.pad,
        min_confidence: args.min_confidence,
        incident: args.incident.clone(),
        progress: std::io::stderr().is_terminal(),
    };
    let made = clips::write_clips(&index, &dir, &opts)?;
    for (path, why) in &made.failures {
        eprintln!("blastscan: {path}: no clips: {why}");
    }
    eprintln!("wrote {} clips and clips.csv to {}", made.rows.len(), dir.display());
    Ok(if made.failures.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(2) })
}

fn run_query(args: &QueryArgs) -> Result<ExitCode, Error> {
    check_confidence(args.min_confidence)?;
    let index = load_index(&args.out)?;
    let mut q = query::Query::new(
        args.from.clone(),
        args.to.clone(),
        args.min_confidence,
        args.text.clone(),
        args.recording.as_deref(),
    )?;
    q.incident.clone_from(&args.incident);
    q.check_against(&index)?;
    let rows = query::run(&index, &q);
    let format = args.format.unwrap_or(if std::io::stdout().is_terminal() {
        QueryFormat::Table
    } else {
        QueryFormat::Csv
    });
    match format {
        QueryFormat::Table => print!("{}", query::to_table(&rows)),
        QueryFormat::Csv => print!("{}", query::to_csv(&rows)?),
        QueryFormat::Json => println!("{}", query::to_json(&rows)?),
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_parses_every_subcommand_and_refuses_bad_values() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
        let ok = |args: &[&str]| Cli::try_parse_from(args).map(|_| ()).map_err(|e| e.to_string());
        assert_eq!(
            ok(&["blastscan", "scan", "in", "--timezone", "-03:00", "--shard", "1/2"]),
            Ok(())
        );
        assert_eq!(ok(&["blastscan", "scan", "in", "--summary", "json"]), Ok(()));
        assert!(ok(&["blastscan", "scan", "in", "--shard", "2/2"]).is_err());
        assert!(ok(&["blastscan", "scan", "in", "--timezone", "Mars"]).is_err());
        assert!(ok(&["blastscan", "scan", "in", "--summary", "yaml"]).is_err());
        assert!(ok(&["blastscan", "scan"]).is_err(), "inputs are required");
    }
}
