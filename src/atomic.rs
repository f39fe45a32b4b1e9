//! Atomic writes: every file blastscan writes goes through [`write_atomic`], so a killed
//! run leaves either the old file or the new one, never a torn one.

use std::io::Write;
use std::path::Path;

use crate::error::Error;

/// Writes `bytes` to `path` atomically (temporary file in the same folder, then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let wrap = |source| Error::Write { path: path.to_path_buf(), source };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".blastscan-");
    // A temporary file is created 0600; outputs are for colleagues too, so they get the
    // mode an ordinary new file gets (0666 less the umask, applied by the OS).
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut tmp = builder.tempfile_in(dir).map_err(wrap)?;
    tmp.write_all(bytes).map_err(wrap)?;
    tmp.as_file().sync_all().map_err(wrap)?;
    tmp.persist(path).map_err(|e| wrap(e.error))?;
    Ok(())
}
