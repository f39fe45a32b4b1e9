//! Just enough of the ISO base media file format (MP4, M4A, 3GP) for what Symphonia does
//! not give: a sound track it skips (its codec and where its samples lie), the start of a
//! sound track's edit list (AAC priming), a box's first bytes (the movie header's date).
//!
//! Symphonia's MP4 reader passes over sample entries it does not know, so a 3GP video from
//! a basic phone, whose sound is AMR, seems to have no audio track at all. This reads the
//! box tree (ISO/IEC 14496-12 §4.2, §8): `moov/trak/mdia/hdlr` says a track is sound,
//! `minf/stbl/stsd` gives its sample entry's four-character code (`samr` AMR-NB, `sawb`
//! AMR-WB: 3GPP TS 26.244 §6.5), and the sample table (`stsz` sizes, `stsc` samples per
//! chunk, `stco`/`co64` chunk offsets, §8.7) where its bytes are. Samples of one chunk lie
//! end to end, so the track's bytes are a list of runs, one per chunk, and [`Runs`] reads
//! them as one stream. Every size and offset comes from the file: anything inconsistent
//! ends the walk rather than being trusted.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// Boxes read at one level before giving up on a damaged file.
const MAX_BOXES: usize = 4096;

/// A sound track found in an ISO file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoundTrack {
    /// Its sample entry's four-character code (the codec).
    pub code: [u8; 4],
    /// Where its bytes lie, in order: (offset, length), one per chunk; empty when the
    /// sample table could not be read.
    pub runs: Vec<(u64, u64)>,
}

/// The first sound track of the ISO file at `path`, if it is one and has one.
pub fn sound_track(path: &Path) -> Option<SoundTrack> {
    let (mut file, _, mdia) = open_sound_track(path)?;
    let end = file.metadata().ok()?.len();
    let stbl =
        [b"minf", b"stbl"].iter().try_fold(mdia, |parent, kind| child(&mut file, parent, kind))?;
    let stsd = child(&mut file, stbl, b"stsd")?;
    // stsd: version and flags (4), entry_count (4), the first entry's size (4), code (4).
    let code = read_at::<4>(&mut file, stsd.start + 12)?;
    let runs = runs(&mut file, stbl, end).unwrap_or_default();
    Some(SoundTrack { code, runs })
}

/// Where the first sound track's edit list starts presenting it: the media time of its
/// first non-empty edit (`edts/elst`, §8.6.6) and the media's timescale (`mdhd`, §8.4.2),
/// so the start in seconds is their ratio. Encoders put their priming here (1024 frames
/// for most AAC encoders, 2112 for Apple's). `None` without an edit list.
pub fn edit_start(path: &Path) -> Option<(u64, u32)> {
    let (mut file, trak, mdia) = open_sound_track(path)?;
    let mdhd = child(&mut file, mdia, b"mdhd")?;
    // mdhd: version (1), flags (3), creation and modification times (4 or 8 each), timescale.
    let version = read_at::<1>(&mut file, mdhd.start)?[0];
    let [timescale] = read_words::<1>(&mut file, mdhd.start + if version == 1 { 20 } else { 12 })?;
    let edts = child(&mut file, trak, b"edts")?;
    let elst = child(&mut file, edts, b"elst")?;
    // elst: version (1), flags (3), entry_count (4), then (segment_duration, media_time,
    // media_rate) entries of 12 bytes (version 0) or 20 (version 1); media_time -1 is an
    // empty edit (a pause before the track starts).
    let version = read_at::<1>(&mut file, elst.start)?[0];
    let [entries] = read_words::<1>(&mut file, elst.start + 4)?;
    let width = if version == 1 { 20 } else { 12 };
    for i in 0..u64::from(entries).min(MAX_BOXES as u64) {
        let at = elst.start + 8 + i * width;
        if at + width > elst.end {
            return None;
        }
        let media_time = if version == 1 {
            i64::from_be_bytes(read_at::<8>(&mut file, at + 8)?)
        } else {
            i64::from(i32::from_be_bytes(read_at::<4>(&mut file, at + 4)?))
        };
        if media_time >= 0 {
            return Some((media_time as u64, timescale));
        }
    }
    None
}

/// The file at `path` with the `trak` and `mdia` boxes of its first sound track (`hdlr`
/// type `soun`), if it is an ISO file that has one.
fn open_sound_track(path: &Path) -> Option<(File, IsoBox, IsoBox)> {
    let mut file = File::open(path).ok()?;
    if read_at::<4>(&mut file, 4)? != *b"ftyp" {
        return None;
    }
    let end = file.metadata().ok()?.len();
    let moov = child(&mut file, IsoBox { kind: *b"file", start: 0, end }, b"moov")?;
    for trak in children(&mut file, moov.start, moov.end).into_iter().filter(|b| &b.kind == b"trak")
    {
        let Some(mdia) = child(&mut file, trak, b"mdia") else { continue };
        let Some(hdlr) = child(&mut file, mdia, b"hdlr") else { continue };
        // hdlr: version and flags (4), pre_defined (4), handler_type (4).
        if read_at::<4>(&mut file, hdlr.start + 8) == Some(*b"soun") {
            return Some((file, trak, mdia));
        }
    }
    None
}

/// The chunks of a track as (offset, length) runs, from its sample table.
fn runs(file: &mut File, stbl: IsoBox, file_len: u64) -> Option<Vec<(u64, u64)>> {
    // stsz: version and flags (4), sample_size (4), sample_count (4), then one size each
    // when sample_size is 0.
    let stsz = child(file, stbl, b"stsz")?;
    let [uniform, count] = read_words::<2>(file, stsz.start + 4)?;
    let count = count as usize;
    let sizes: Vec<u32> = if uniform != 0 {
        Vec::new()
    } else {
        table(file, stsz, 12, count, 4)?.chunks_exact(4).map(word).collect()
    };
    // stco / co64: version and flags (4), entry_count (4), then 32- or 64-bit offsets.
    let (offsets, wide) = match child(file, stbl, b"stco") {
        Some(stco) => (stco, false),
        None => (child(file, stbl, b"co64")?, true),
    };
    let [chunks] = read_words::<1>(file, offsets.start + 4)?;
    let width = if wide { 8 } else { 4 };
    let offsets: Vec<u64> = table(file, offsets, 8, chunks as usize, width)?
        .chunks_exact(width)
        .map(|b| {
            if wide {
                u64::from_be_bytes(b.try_into().unwrap_or([0; 8]))
            } else {
                u64::from(word(b))
            }
        })
        .collect();
    // stsc: version and flags (4), entry_count (4), then (first_chunk, samples_per_chunk,
    // sample_description_index) runs, chunks numbered from 1.
    let stsc = child(file, stbl, b"stsc")?;
    let [entries] = read_words::<1>(file, stsc.start + 4)?;
    let stsc: Vec<[u32; 3]> = table(file, stsc, 8, entries as usize, 12)?
        .chunks_exact(12)
        .map(|e| [word(&e[0..4]), word(&e[4..8]), word(&e[8..12])])
        .collect();
    let mut runs = Vec::with_capacity(offsets.len());
    let (mut next_sample, mut entry) = (0usize, 0usize);
    for (i, &offset) in offsets.iter().enumerate() {
        let chunk = i as u64 + 1;
        while stsc.get(entry + 1).is_some_and(|e| u64::from(e[0]) <= chunk) {
            entry += 1;
        }
        // The first entry must cover chunk 1, so every chunk has one.
        let &[_, per_chunk, _] = stsc.get(entry).filter(|e| u64::from(e[0]) <= chunk)?;
        let end = next_sample.saturating_add(per_chunk as usize).min(count);
        let len = if uniform != 0 {
            (end - next_sample) as u64 * u64::from(uniform)
        } else {
            sizes[next_sample..end].iter().map(|&s| u64::from(s)).sum()
        };
        if offset.checked_add(len)? > file_len {
            return None;
        }
        runs.push((offset, len));
        next_sample = end;
    }
    Some(runs)
}

/// Reads the bytes at `runs` of a file one after another, as one stream.
#[derive(Debug)]
pub struct Runs {
    file: File,
    runs: std::vec::IntoIter<(u64, u64)>,
    /// Bytes left in the current run; the file is positioned at the next of them.
    left: u64,
}

impl Runs {
    /// A stream over `runs` of the file at `path`.
    pub fn open(path: &Path, runs: Vec<(u64, u64)>) -> std::io::Result<Runs> {
        Ok(Runs { file: File::open(path)?, runs: runs.into_iter(), left: 0 })
    }
}

impl Read for Runs {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.left == 0 {
            let Some((offset, len)) = self.runs.next() else { return Ok(0) };
            self.file.seek(SeekFrom::Start(offset))?;
            self.left = len;
        }
        let want = buf.len().min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.file.read(&mut buf[..want])?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// A box's type and where its payload lies.
#[derive(Debug, Clone, Copy)]
struct IsoBox {
    kind: [u8; 4],
    start: u64,
    end: u64,
}

/// The box starting at `at` if it fits in `..end`, with where the next one starts.
fn next_box(file: &mut File, at: u64, end: u64) -> Option<IsoBox> {
    if at.checked_add(8)? > end {
        return None;
    }
    let header = read_at::<8>(file, at)?;
    let kind = [header[4], header[5], header[6], header[7]];
    let (header_len, size) = match word(&header[..4]) {
        0 => (8, end - at),
        1 => (16, u64::from_be_bytes(read_at::<8>(file, at + 8)?)),
        n => (8, u64::from(n)),
    };
    let box_end = at.checked_add(size).filter(|&e| size >= header_len && e <= end)?;
    Some(IsoBox { kind, start: at + header_len, end: box_end })
}

/// The boxes laid end to end in `start..end`, up to the first that does not fit.
fn children(file: &mut File, start: u64, end: u64) -> Vec<IsoBox> {
    let mut found: Vec<IsoBox> = Vec::new();
    while found.len() < MAX_BOXES {
        let at = found.last().map_or(start, |b| b.end);
        let Some(b) = next_box(file, at, end) else { break };
        found.push(b);
    }
    found
}

/// The first child of `parent` of type `kind`.
fn child(file: &mut File, parent: IsoBox, kind: &[u8; 4]) -> Option<IsoBox> {
    let mut at = parent.start;
    for _ in 0..MAX_BOXES {
        let b = next_box(file, at, parent.end)?;
        if &b.kind == kind {
            return Some(b);
        }
        at = b.end;
    }
    None
}

/// The first `N` bytes of the payload of the box reached by `route` (box types from the
/// top level down, e.g. `moov` then `mvhd`), if the file at `path` has that box and it
/// is that long. No `ftyp` is required: old QuickTime files have none.
pub fn box_head<const N: usize>(path: &Path, route: &[&[u8; 4]]) -> Option<[u8; N]> {
    let mut file = File::open(path).ok()?;
    let top = IsoBox { kind: *b"file", start: 0, end: file.metadata().ok()?.len() };
    let found = route.iter().try_fold(top, |parent, kind| child(&mut file, parent, kind))?;
    if found.start.checked_add(N as u64)? > found.end {
        return None;
    }
    read_at::<N>(&mut file, found.start)
}

/// `count` entries of `width` bytes starting `skip` bytes into a box's payload, if the box
/// holds them all.
fn table(file: &mut File, b: IsoBox, skip: u64, count: usize, width: usize) -> Option<Vec<u8>> {
    let len = count.checked_mul(width)?;
    if b.start.checked_add(skip)?.checked_add(len as u64)? > b.end {
        return None;
    }
    let mut bytes = vec![0u8; len];
    file.seek(SeekFrom::Start(b.start + skip)).ok()?;
    file.read_exact(&mut bytes).ok()?;
    Some(bytes)
}

fn read_words<const N: usize>(file: &mut File, at: u64) -> Option<[u32; N]> {
    let mut words = [0u32; N];
    for (i, w) in words.iter_mut().enumerate() {
        *w = word(&read_at::<4>(file, at + 4 * i as u64)?);
    }
    Some(words)
}

fn read_at<const N: usize>(file: &mut File, at: u64) -> Option<[u8; N]> {
    let mut buf = [0u8; N];
    file.seek(SeekFrom::Start(at)).ok()?;
    file.read_exact(&mut buf).ok()?;
    Some(buf)
}

/// A big-endian 32-bit word from the first four bytes of `b` (callers pass four).
fn word(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// ISO files built box by box, for tests here and in the modules that use this one.
#[cfg(test)]
pub(crate) mod testing {
    /// A box of type `kind` around `payload`.
    pub fn iso_box(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut b = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
        b.extend_from_slice(kind);
        b.extend_from_slice(payload);
        b
    }

    /// A 3GP with one track of handler `handler` and sample entry `entry` whose samples
    /// are `samples`, stored in chunks of two samples (the last may hold one) in `mdat`
    /// after a few bytes of other data, with a sample table saying so.
    pub fn mp4(handler: &[u8; 4], entry: &[u8; 4], samples: &[&[u8]]) -> Vec<u8> {
        let ftyp = iso_box(b"ftyp", b"3gp4\x00\x00\x00\x003gp4");
        let mdat_payload: Vec<u8> = [b"junk".as_slice()]
            .into_iter()
            .chain(samples.iter().copied())
            .flatten()
            .copied()
            .collect();
        let mdat = iso_box(b"mdat", &mdat_payload);
        // Chunk offsets: the samples start after ftyp, the mdat header and the junk.
        let mut offset = (ftyp.len() + 8 + 4) as u32;
        let mut offsets = Vec::new();
        for pair in samples.chunks(2) {
            offsets.push(offset);
            offset += pair.iter().map(|s| s.len() as u32).sum::<u32>();
        }
        let be = |v: u32| v.to_be_bytes();
        let mut stsz = [[0u8; 4], be(0), be(samples.len() as u32)].concat();
        stsz.extend(samples.iter().flat_map(|s| be(s.len() as u32)));
        // Two samples per chunk from chunk 1, then one from the last chunk on.
        let last = offsets.len() as u32;
        let mut stsc =
            [[0u8; 4], be(2), be(1), be(2), be(1), be(last.max(2)), be(1), be(1)].concat();
        if samples.len().is_multiple_of(2) {
            stsc = [[0u8; 4], be(1), be(1), be(2), be(1)].concat();
        }
        let mut stco = [[0u8; 4], be(offsets.len() as u32)].concat();
        stco.extend(offsets.iter().flat_map(|&o| be(o)));
        let hdlr = iso_box(b"hdlr", &[&[0u8; 8][..], handler, &[0u8; 12]].concat());
        let stsd =
            iso_box(b"stsd", &[&[0, 0, 0, 0, 0, 0, 0, 1][..], &iso_box(entry, &[0; 28])].concat());
        let stbl =
            [stsd, iso_box(b"stsz", &stsz), iso_box(b"stsc", &stsc), iso_box(b"stco", &stco)];
        let minf = iso_box(b"minf", &iso_box(b"stbl", &stbl.concat()));
        let trak = iso_box(b"trak", &iso_box(b"mdia", &[hdlr, minf].concat()));
        [ftyp, mdat, iso_box(b"moov", &trak)].concat()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::mp4;
    use super::*;

    fn track(bytes: &[u8]) -> (Option<SoundTrack>, Vec<u8>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("f.3gp");
        std::fs::write(&path, bytes).expect("write");
        let found = sound_track(&path);
        let mut read = Vec::new();
        if let Some(t) = &found {
            Runs::open(&path, t.runs.clone()).expect("open").read_to_end(&mut read).expect("read");
        }
        (found, read)
    }

    #[test]
    fn a_sound_tracks_samples_are_read_in_order_across_chunks() {
        let samples: [&[u8]; 5] = [b"one", b"two!", b"three", b"4", b"five5"];
        let (found, read) = track(&mp4(b"soun", b"samr", &samples));
        let found = found.expect("a sound track");
        assert_eq!(&found.code, b"samr");
        assert_eq!(found.runs.len(), 3, "chunks of 2, 2 and 1 samples: {:?}", found.runs);
        assert_eq!(read, samples.concat());
        // An even count takes the one-entry sample-to-chunk table.
        let (_, read) = track(&mp4(b"soun", b"samr", &samples[..4]));
        assert_eq!(read, samples[..4].concat());
    }

    #[test]
    fn no_sound_track_or_a_damaged_table_gives_nothing_to_read() {
        assert_eq!(track(&mp4(b"vide", b"avc1", &[b"frame"])).0, None);
        assert_eq!(track(b"RIFF\0\0\0\0WAVE").0, None);
        // A chunk offset past the end of the file: the codec is known, the samples not.
        let mut bytes = mp4(b"soun", b"samr", &[b"abc", b"def"]);
        let stco = bytes.windows(4).rposition(|w| w == b"stco").expect("stco");
        bytes[stco + 12..stco + 16].copy_from_slice(&u32::MAX.to_be_bytes());
        let (found, read) = track(&bytes);
        assert_eq!(found.map(|t| (t.code, t.runs.len())), Some((*b"samr", 0)));
        assert!(read.is_empty());
    }
}
