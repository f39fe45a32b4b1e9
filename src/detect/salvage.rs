//! Salvage of damaged recordings: the bytes a decoder reads, with the container's broken
//! length fields mended, and the links of a chained Ogg file.
//!
//! Phones and recorders that crash, run out of space or are cut off mid-download leave
//! files whose headers promise more (or less) than the file holds. ffmpeg recovers the
//! audio that is there; so does blastscan, by presenting the file as it should have been:
//!
//! * **WAV** (RIFF): a `data` chunk whose size is 0 (the header was never finalised) or
//!   runs past the end of the file (`0xFFFFFFF0`, a truncated copy) is read as running to
//!   the end of the file, whole sample frames only.
//! * **MP4/M4A/3GP** with the sample table first (fast start): a top-level `mdat` box cut
//!   short is read as ending where the file ends; samples past the end are then an early
//!   end of stream, and every sample before it decodes.
//! * **Chained Ogg** (RFC 3533 section 4: several logical streams one after another, as
//!   when two voice notes are joined): each link is a beginning-of-stream page after a
//!   page of another stream; [`ogg_links`] finds them so the decoder reads every link.
//!
//! Nothing is written: the mending happens in the byte source ([`Source`]).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use symphonia::core::io::MediaSource;

/// A window of a file with some bytes replaced, read as a file of its own.
#[derive(Debug)]
pub struct Source {
    file: File,
    /// Where the window starts in the file.
    start: u64,
    /// Length of the window.
    len: u64,
    /// Read position inside the window.
    pos: u64,
    /// Where the file's own offset is, inside the window, when known: reads that follow
    /// each other need no seek (one system call per read, not two).
    file_pos: Option<u64>,
    /// Replaced bytes: (offset inside the window, bytes).
    patches: Vec<(u64, Vec<u8>)>,
    /// What was mended, in words, for the recording's decode warnings.
    pub mended: Option<String>,
}

impl Source {
    /// The whole file, with its length fields mended if they are broken.
    pub fn open(path: &Path) -> std::io::Result<Source> {
        let mut file = File::open(path)?;
        let len = file.metadata()?.len();
        let mut head = [0u8; 12];
        let n = read_at(&mut file, 0, &mut head)?;
        let (patches, mended) = if n == 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WAVE" {
            mend_wav(&mut file, len)?
        } else if n >= 8 && (&head[4..8] == b"ftyp" || &head[4..8] == b"moov") {
            mend_mp4(&mut file, len)?
        } else {
            (Vec::new(), None)
        };
        Ok(Source { file, start: 0, len, pos: 0, file_pos: None, patches, mended })
    }

    /// Bytes `start..end` of the file (one link of a chained Ogg file).
    pub fn window(path: &Path, start: u64, end: u64) -> std::io::Result<Source> {
        let mut file = File::open(path)?;
        file.seek(SeekFrom::Start(start))?;
        let len = end.saturating_sub(start);
        Ok(Source { file, start, len, pos: 0, file_pos: None, patches: Vec::new(), mended: None })
    }
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.len.saturating_sub(self.pos);
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        if want == 0 {
            return Ok(0);
        }
        if self.file_pos != Some(self.pos) {
            self.file_pos = None;
            self.file.seek(SeekFrom::Start(self.start + self.pos))?;
            self.file_pos = Some(self.pos);
        }
        let n = match self.file.read(&mut buf[..want]) {
            Ok(n) => n,
            Err(e) => {
                self.file_pos = None;
                return Err(e);
            }
        };
        self.file_pos = Some(self.pos + n as u64);
        for (at, bytes) in &self.patches {
            for (i, b) in bytes.iter().enumerate() {
                let p = at + i as u64;
                if (self.pos..self.pos + n as u64).contains(&p) {
                    buf[(p - self.pos) as usize] = *b;
                }
            }
        }
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Source {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        let Some(target) = target else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "seek before the start of the file",
            ));
        };
        self.pos = target;
        Ok(target)
    }
}

impl MediaSource for Source {
    fn is_seekable(&self) -> bool {
        true
    }

    fn byte_len(&self) -> Option<u64> {
        Some(self.len)
    }
}

type Mend = (Vec<(u64, Vec<u8>)>, Option<String>);

/// Reads up to `buf.len()` bytes at `offset`; returns how many were read.
fn read_at(file: &mut File, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
    file.seek(SeekFrom::Start(offset))?;
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Mends a WAV file's `data` chunk size (see the module doc).
fn mend_wav(file: &mut File, len: u64) -> std::io::Result<Mend> {
    let mut pos = 12u64;
    let mut block_align = 1u64;
    // A handful of chunks precede `data` in practice; a bound keeps a hostile file cheap.
    for _ in 0..1000 {
        let mut head = [0u8; 8];
        if read_at(file, pos, &mut head)? < 8 {
            break;
        }
        let size = u64::from(u32::from_le_bytes([head[4], head[5], head[6], head[7]]));
        let body = pos + 8;
        if &head[..4] == b"fmt " {
            let mut fmt = [0u8; 14];
            if read_at(file, body, &mut fmt)? == 14 {
                block_align = u64::from(u16::from_le_bytes([fmt[12], fmt[13]])).max(1);
            }
        } else if &head[..4] == b"data" {
            let there = len.saturating_sub(body);
            if size != 0 && size <= there {
                return Ok((Vec::new(), None));
            }
            let whole = there - there % block_align;
            let fixed = u32::try_from(whole).unwrap_or(u32::MAX - (u32::MAX % block_align as u32));
            let said = if size == 0 { "0 bytes".to_string() } else { format!("{size} bytes") };
            let mut patches = vec![(pos + 4, fixed.to_le_bytes().to_vec())];
            let riff = u32::try_from(len.saturating_sub(8)).unwrap_or(u32::MAX);
            patches.push((4, riff.to_le_bytes().to_vec()));
            let note = format!(
                "the WAV header gives the audio as {said} but the file holds {whole}; read what is there (was the recording cut off?)"
            );
            return Ok((patches, Some(note)));
        }
        pos = body + size + (size & 1);
    }
    Ok((Vec::new(), None))
}

/// Mends a fast-start MP4 whose `mdat` box is cut short (see the module doc).
fn mend_mp4(file: &mut File, len: u64) -> std::io::Result<Mend> {
    let mut pos = 0u64;
    let mut seen_moov = false;
    for _ in 0..1000 {
        let mut head = [0u8; 16];
        let n = read_at(file, pos, &mut head)?;
        if n < 8 {
            break;
        }
        let size32 = u64::from(u32::from_be_bytes([head[0], head[1], head[2], head[3]]));
        let kind = [head[4], head[5], head[6], head[7]];
        let (size, field, width) = match size32 {
            1 if n == 16 => (u64::from_be_bytes(head[8..16].try_into().unwrap_or([0; 8])), 8, 8),
            0 => (len - pos, 0, 4),
            s => (s, 0, 4),
        };
        seen_moov |= &kind == b"moov";
        if size < 8 {
            break;
        }
        if pos + size > len {
            if &kind != b"mdat" || !seen_moov {
                break;
            }
            let actual = len - pos;
            let bytes = if width == 8 {
                actual.to_be_bytes().to_vec()
            } else {
                u32::try_from(actual).unwrap_or(u32::MAX).to_be_bytes().to_vec()
            };
            let note = format!(
                "the file ends {} bytes into its audio data of {} bytes (a cut-off download or copy?); read what is there",
                actual, size
            );
            return Ok((vec![(pos + field, bytes)], Some(note)));
        }
        pos += size;
    }
    Ok((Vec::new(), None))
}

/// The byte ranges of the links of a chained Ogg file, in order; one range for a file
/// with one link, none for a file that is not Ogg. A link starts at a beginning-of-stream
/// page (header type flag 0x02) that follows a page without it (RFC 3533, section 6).
pub fn ogg_links(path: &Path) -> std::io::Result<Vec<(u64, u64)>> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    let mut starts = Vec::new();
    let mut pos = 0u64;
    let mut previous_bos = false;
    // Pages are at most 65 kB; the bound only stops a pathological file.
    for _ in 0..10_000_000 {
        let mut head = [0u8; 27];
        if read_at(&mut file, pos, &mut head)? < 27 || &head[..4] != b"OggS" {
            break;
        }
        let bos = head[5] & 0x02 != 0;
        if bos && !previous_bos {
            starts.push(pos);
        }
        previous_bos = bos;
        let segments = usize::from(head[26]);
        let mut lacing = vec![0u8; segments];
        if read_at(&mut file, pos + 27, &mut lacing)? < segments {
            break;
        }
        let body: u64 = lacing.iter().map(|&l| u64::from(l)).sum();
        pos += 27 + segments as u64 + body;
    }
    let mut links: Vec<(u64, u64)> = starts.windows(2).map(|w| (w[0], w[1])).collect();
    if let Some(&last) = starts.last() {
        links.push((last, len));
    }
    Ok(links)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads after reads, after seeks back and forth and across the window's end return the
    /// window's bytes, whether or not the source had to move the file's offset.
    #[test]
    fn a_window_reads_its_own_bytes_however_it_is_read() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("bytes.bin");
        let bytes: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(&path, &bytes).expect("writes");
        let window = &bytes[1000..9000];
        let mut source = Source::window(&path, 1000, 9000).expect("opens");
        let read = |source: &mut Source, n: usize| {
            let mut buf = vec![0u8; n];
            let got = source.read(&mut buf).expect("reads");
            buf.truncate(got);
            buf
        };
        assert_eq!(read(&mut source, 100), &window[..100]);
        assert_eq!(read(&mut source, 50), &window[100..150], "straight on");
        source.seek(SeekFrom::Start(10)).expect("seeks");
        assert_eq!(read(&mut source, 20), &window[10..30], "back");
        source.seek(SeekFrom::Current(5000)).expect("seeks");
        assert_eq!(read(&mut source, 20), &window[5030..5050], "forward");
        assert_eq!(read(&mut source, 20), &window[5050..5070], "straight on again");
        source.seek(SeekFrom::End(-10)).expect("seeks");
        assert_eq!(read(&mut source, 100), &window[window.len() - 10..], "up to the end only");
        assert!(read(&mut source, 100).is_empty(), "then nothing");
    }
}
