//! Atomic writes: every file blastscan writes goes through [`write_atomic`], so a killed
//! run leaves either the old file or the new one, never a torn one.

use std::io::Write;
use std::path::Path;

use crate::error::Error;

/// Writes `bytes` to `path` atomically (temporary file in the same folder, then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// [`write_atomic`] for what `fill` writes, streamed through a buffer: a large index or
/// table goes to the file as it is serialised, never whole into memory.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), Error> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let wrap = |source| Error::Write { path: path.to_path_buf(), source };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".blastscan-");
    // A temporary file is created 0600; outputs are for colleagues too, so they get the
    // mode an ordinary new file gets (0666 less the umask, applied by the OS).
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut tmp = builder.tempfile_in(dir).map_err(wrap)?;
    let mut buffered = std::io::BufWriter::new(tmp.as_file_mut());
    fill(&mut buffered).map_err(wrap)?;
    buffered.flush().map_err(wrap)?;
    drop(buffered);
    tmp.as_file().sync_all().map_err(wrap)?;
    tmp.persist(path).map_err(|e| wrap(e.error))?;
    Ok(())
}
