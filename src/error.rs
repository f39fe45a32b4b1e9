//! Typed errors. A [`FileError`] is about one recording and never stops a batch;
//! an [`Error`] is fatal for the whole run (bad arguments, unwritable output).

use std::path::PathBuf;

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
    #[error("unsupported audio codec ({0}); convert the file to WAV or FLAC and scan it again")]
    UnsupportedCodec(String),
    /// The stream could not be decoded at all.
    #[error("the audio stream could not be decoded ({0}); the file may be corrupt or truncated")]
    Decode(String),
    /// The stream decoded to no samples.
    #[error("the audio stream holds no decodable samples; the file may be truncated or corrupt")]
    NoAudio,
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
    /// An argument has an invalid value.
    #[error("{0}")]
    Usage(String),
}

/// Result alias for fatal errors.
pub type Result<T, E = Error> = std::result::Result<T, E>;
