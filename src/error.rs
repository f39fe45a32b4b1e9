//! Typed errors. A [`FileError`] is about one recording and never stops a batch;
//! an [`Error`] is fatal for the whole run (bad arguments, unwritable output).

use std::path::PathBuf;

use crate::index::{ErrorKind, Recording};

/// Why one recording could not be analysed. Stored in the index next to its path.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// The file could not be opened or read.
    #[error("cannot read the file: {0}; check that it exists and is readable")]
    Io(#[from] std::io::Error),
    /// The file holds no bytes.
    #[error("the file is empty (0 bytes); it was probably not fully downloaded or exported")]
    Empty,
    /// No container format recognised the bytes.
    #[error("not a recognised audio or video container ({0}); the file may be truncated, corrupt or not audio")]
    UnknownFormat(String),
    /// The container holds no audio track.
    #[error("the file has no audio track")]
    NoAudioTrack,
    /// The audio codec is not one blastscan can decode.
    #[error("unsupported audio codec ({0}); convert the file to WAV or FLAC (e.g. `ffmpeg -i IN OUT.wav`) and scan that")]
    UnsupportedCodec(String),
    /// The stream could not be decoded at all.
    #[error("the audio stream could not be decoded ({0}); the file may be corrupt or truncated")]
    Decode(String),
    /// The stream decoded to no samples.
    #[error("the audio stream holds no decodable samples; the file may be truncated or corrupt")]
    NoAudio,
}

impl FileError {
    /// The kind of failure, as the index records it.
    pub fn kind(&self) -> ErrorKind {
        match self {
            FileError::Io(_) => ErrorKind::Io,
            FileError::Empty => ErrorKind::Empty,
            FileError::UnknownFormat(_) => ErrorKind::UnknownFormat,
            FileError::NoAudioTrack => ErrorKind::NoAudioTrack,
            FileError::UnsupportedCodec(_) => ErrorKind::UnsupportedCodec,
            FileError::Decode(_) => ErrorKind::Decode,
            FileError::NoAudio => ErrorKind::NoAudio,
        }
    }

    /// Records this failure in `rec`: its sentence and its kind.
    pub fn record_in(&self, rec: &mut Recording) {
        rec.fail(self.kind(), self.to_string());
    }
}

/// Why a recording's audio could not be read again after the scan (by `clips`, `report`,
/// `labels`): that recording is skipped and named; the others go on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AudioUnavailable {
    /// The index was written by a version that did not record where files were read.
    #[error("the index does not say where the recording is; scan it again with this version")]
    NotRecorded,
    /// The file is no longer where the scan read it.
    #[error("the recording is no longer at {}; scan its new location again", .0.display())]
    Moved(PathBuf),
    /// The file is there but could not be decoded.
    #[error(transparent)]
    Unreadable(#[from] FileError),
}

/// A failure that ends the run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An input path given on the command line does not exist.
    #[error("{}: no such file or folder; check the path", .0.display())]
    MissingInput(PathBuf),
    /// Writing an output failed.
    #[error("cannot write {}: {source}; check that the folder is writable and the disk has space", path.display())]
    Write {
        /// The file that could not be written.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// Reading an input that the run needs as a whole (an index, a labels file) failed.
    #[error("cannot read {}: {reason}", path.display())]
    Read {
        /// The file that could not be read.
        path: PathBuf,
        /// What went wrong, in words.
        reason: String,
    },
    /// Another run holds the output folder's lock.
    #[error("{}: another blastscan run is writing to this output folder; wait for it to finish or choose another --out", .0.display())]
    Locked(PathBuf),
    /// The inputs hold no recordings (an unmounted drive, a wrong folder).
    #[error("no recordings found under {0}; check the path (is the drive mounted?). The output folder was left as it was")]
    NoRecordings(String),
    /// An output could not be serialised; nothing was written over the previous file.
    #[error("cannot serialise {what}: {reason}; the previous file was kept. This is a bug in blastscan: please report it")]
    Serialise {
        /// Which output.
        what: &'static str,
        /// What the serialiser said.
        reason: String,
    },
    /// The worker threads could not be started.
    #[error("cannot start worker threads: {0}; try fewer with --threads")]
    Threads(String),
    /// Output folders made with different detectors or time zones cannot be merged.
    #[error("{} {what} than {}; scan both the same way before merging", dir.display(), first.display())]
    Incompatible {
        /// The folder that differs.
        dir: PathBuf,
        /// The first folder of the merge.
        first: PathBuf,
        /// How it differs.
        what: &'static str,
    },
    /// An argument has an invalid value.
    #[error("{0}")]
    Usage(String),
}

/// Result alias for fatal errors.
pub type Result<T, E = Error> = std::result::Result<T, E>;
