//! Telegram Desktop exports (`result.json`, one chat or a whole account).

use chrono::DateTime;
use serde::Deserialize;

use super::stamp::{parse_iso, warn, Dated, MessageDate, Stamp};
use crate::index::{base_name, Anchor, DateSource, Warning};

#[derive(Deserialize)]
struct TelegramExport {
    name: Option<String>,
    messages: Option<Vec<serde_json::Value>>,
    chats: Option<TelegramChats>,
}

#[derive(Deserialize)]
struct TelegramChats {
    list: Vec<TelegramExport>,
}

pub(super) fn parse_telegram(text: &str, display: &str, warnings: &mut Vec<Warning>) -> Vec<Dated> {
    let export: TelegramExport = match serde_json::from_str(text) {
        Ok(e) => e,
        Err(e) => {
            warn(
                warnings,
                display,
                Some(e.line()),
                format!("not a Telegram export ({e}); file ignored"),
            );
            return Vec::new();
        }
    };
    let mut chats = vec![export];
    let mut out = Vec::new();
    while let Some(chat) = chats.pop() {
        if let Some(more) = chat.chats {
            chats.extend(more.list);
        }
        for (n, m) in chat.messages.iter().flatten().enumerate() {
            let Some(file) = m.get("file").and_then(|f| f.as_str()) else { continue };
            if file.starts_with('(') {
                // "(File not included. Change data exporting settings to download.)"
                continue;
            }
            let utc = m
                .get("date_unixtime")
                .and_then(|v| v.as_str().and_then(|s| s.parse::<i64>().ok()).or_else(|| v.as_i64()))
                .and_then(|s| DateTime::from_timestamp(s, 0))
                .map(Stamp::Utc);
            let local = m.get("date").and_then(|d| d.as_str()).and_then(parse_iso);
            let Some(stamp) = utc.or(local) else {
                warn(
                    warnings,
                    display,
                    None,
                    format!("messages[{n}] has no readable date; skipped"),
                );
                continue;
            };
            let mut date = MessageDate::new(stamp, DateSource::Telegram, Anchor::End);
            date.sender = m.get("from").and_then(|f| f.as_str()).map(str::to_string);
            date.chat = chat.name.clone();
            out.push((base_name(file), date, 0));
        }
    }
    out
}
