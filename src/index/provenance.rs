//! Where a recording came from and how its date is known: the content identity used by
//! the store, the date's source and anchor, and warnings met while linking.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// What kind of failure kept a recording from being analysed, for machines (the index's
/// `error_kind`); `error` beside it says it in words, with what to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file could not be opened or read.
    Io,
    /// The file holds no bytes.
    Empty,
    /// No container format recognised the bytes.
    UnknownFormat,
    /// The container holds no audio track.
    NoAudioTrack,
    /// The audio codec is not supported.
    UnsupportedCodec,
    /// The stream could not be decoded.
    Decode,
    /// The stream decoded to no samples.
    NoAudio,
}

/// What identifies a recording's content, and when it was last seen on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileId {
    /// BLAKE3 hash of the file's bytes, hex.
    pub blake3: String,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch.
    pub modified_ns: i128,
}

impl FileId {
    /// A number in `0..n` chosen by the content, for `--shard`.
    pub fn shard(&self, n: u32) -> u32 {
        let head = u64::from_str_radix(self.blake3.get(..16).unwrap_or("0"), 16).unwrap_or(0);
        (head % u64::from(n.max(1))) as u32
    }
}

/// Where a recording's date came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DateSource {
    /// A manifest CSV.
    Manifest,
    /// A WhatsApp chat export.
    Whatsapp,
    /// A Telegram Desktop export.
    Telegram,
    /// The file name.
    Filename,
    /// A container tag.
    Tag,
    /// The file's modification time.
    Mtime,
}

impl DateSource {
    /// The name written in the outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            DateSource::Manifest => "manifest",
            DateSource::Whatsapp => "whatsapp",
            DateSource::Telegram => "telegram",
            DateSource::Filename => "filename",
            DateSource::Tag => "tag",
            DateSource::Mtime => "mtime",
        }
    }
}

/// Which moment of the recording a stamp marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Anchor {
    /// The end (a voice note is sent when recording stops).
    End,
    /// The start (a recorder names its file when recording starts).
    Start,
}

/// A problem in a transcript or chat file that did not stop the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// The file.
    pub file: String,
    /// 1-based line number, when there is one.
    pub line: Option<usize>,
    /// What is wrong, and what was done about it.
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file, line, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// One recording to scan.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Input {
    /// Where the file is.
    pub path: PathBuf,
    /// How the file is named in outputs: relative to the scanned folder, or as given.
    pub display: String,
}

impl Input {
    /// Where the recording is read from, as an absolute path: the key that ties an index
    /// entry to its file across runs (`Recording::source`).
    pub fn source(&self) -> String {
        std::path::absolute(&self.path).unwrap_or_else(|_| self.path.clone()).display().to_string()
    }
}
