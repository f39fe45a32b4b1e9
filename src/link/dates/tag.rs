//! Dates the file itself carries: an MP4 movie header's creation time, the modification time.

use std::path::Path;

use chrono::{DateTime, Utc};

use super::stamp::{MessageDate, Stamp};
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
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path).ok()?;
    let len = f.metadata().ok()?.len();
    // Walk boxes: top level until `moov`, then inside it until `mvhd`.
    let mut pos = 0u64;
    let mut end = len;
    for _ in 0..10_000 {
        if pos + 8 > end {
            return None;
        }
        f.seek(SeekFrom::Start(pos)).ok()?;
        let mut head = [0u8; 16];
        f.read_exact(&mut head[..8]).ok()?;
        let mut size = u64::from(u32::from_be_bytes([head[0], head[1], head[2], head[3]]));
        let kind = [head[4], head[5], head[6], head[7]];
        let mut header = 8;
        if size == 1 {
            f.read_exact(&mut head[8..16]).ok()?;
            size = u64::from_be_bytes(head[8..16].try_into().ok()?);
            header = 16;
        } else if size == 0 {
            size = end - pos;
        }
        if size < header || pos + size > end {
            return None;
        }
        match &kind {
            b"moov" => {
                end = pos + size;
                pos += header;
            }
            b"mvhd" => {
                let mut body = [0u8; 12];
                f.read_exact(&mut body).ok()?;
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
                return Some(date);
            }
            _ => pos += size,
        }
    }
    None
}
