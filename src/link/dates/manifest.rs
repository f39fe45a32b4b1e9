//! Manifest CSVs: `file,sent_at[,sender,chat,message_id,note]`, one row per recording.

use super::stamp::{parse_iso, warn, Dated, MessageDate};
use crate::index::{Anchor, DateSource, Warning};

pub(super) fn parse_manifest(text: &str, display: &str, warnings: &mut Vec<Warning>) -> Vec<Dated> {
    let mut out = Vec::new();
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|s| s.trim().to_lowercase()).collect(),
        Err(e) => {
            warn(warnings, display, Some(1), format!("cannot read the header ({e}); file skipped"));
            return out;
        }
    };
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (Some(file_col), Some(sent_col)) = (col("file"), col("sent_at")) else {
        warn(
            warnings,
            display,
            Some(1),
            "a manifest needs `file` and `sent_at` columns; file skipped".into(),
        );
        return out;
    };
    let (sender_col, chat_col, note_col) = (col("sender"), col("chat"), col("note"));
    for (i, row) in reader.records().enumerate() {
        let line = i + 2;
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                warn(warnings, display, Some(line), format!("unreadable row ({e}); skipped"));
                continue;
            }
        };
        let field = |c: Option<usize>| {
            c.and_then(|c| row.get(c)).map(str::trim).filter(|v| !v.is_empty()).map(str::to_string)
        };
        let Some(file) = field(Some(file_col)) else {
            warn(warnings, display, Some(line), "no file name; row skipped".into());
            continue;
        };
        let sent = field(Some(sent_col)).unwrap_or_default();
        let Some(stamp) = parse_iso(&sent) else {
            warn(
                warnings,
                display,
                Some(line),
                format!("`{sent}` is not an ISO 8601 date (2018-12-31T23:14:05); row skipped"),
            );
            continue;
        };
        let mut date = MessageDate::new(stamp, DateSource::Manifest, Anchor::End);
        date.sender = field(sender_col);
        date.chat = field(chat_col);
        date.note = field(note_col);
        out.push((file, date, line));
    }
    out
}
