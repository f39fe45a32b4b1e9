//! Dates the file itself carries: an MP4 movie header's creation time, the modification time.

use std::path::Path;

use chrono::{DateTime, Utc};

use super::stamp::{MessageDate, Stamp};
use crate::detect::iso;
use crate::index::{Anchor, DateSource};

/// The file's modification time (when it was written, about when recording ended).
pub fn from_mtime(path: &Path) -> Option<MessageDate> {
    let modified = std::fs::metadata(path).ok()?.modified().ok()?;
    let utc: DateTime<Utc> = modified.into();
    let mut date = MessageDate::new(Stamp::Utc(utc), DateSource::Mtime, Anchor::End);
    date.note = Some("file modification time: changes when files are copied; weak evidence".into());
    Some(date)
}

/// Creation time from an MP4/M4A/3GP/MOV movie header (`moov/mvhd`), as written by the
/// recording device, UTC. `None` for other containers or an unset (zero) time.
pub fn from_tag(path: &Path) -> Option<MessageDate> {
    // mvhd (ISO/IEC 14496-12 §8.2.2): version (1), flags (3), then creation_time, 64-bit
    // in version 1 and 32-bit otherwise, in seconds since 1904-01-01 UTC.
    let body = iso::box_head::<12>(path, &[b"moov", b"mvhd"])?;
    let secs_1904 = if body[0] == 1 {
        u64::from_be_bytes(body[4..12].try_into().ok()?)
    } else {
        u64::from(u32::from_be_bytes(body[4..8].try_into().ok()?))
    };
    // Seconds from 1904-01-01 to 1970-01-01.
    let unix = i64::try_from(secs_1904).ok()? - 2_082_844_800;
    if secs_1904 == 0 || unix < 0 {
        return None;
    }
    let utc = DateTime::from_timestamp(unix, 0)?;
    let mut date = MessageDate::new(Stamp::Utc(utc), DateSource::Tag, Anchor::Start);
    date.note = Some("MP4 movie header creation time".into());
    Some(date)
}
