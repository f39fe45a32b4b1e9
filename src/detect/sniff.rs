//! What a recording no decoder here can read is, told from its bytes.
//!
//! Phones still write sound blastscan cannot decode: AMR speech (Android recorders,
//! older messengers, 3GP video from basic phones) and Windows Media. Without a look at
//! the bytes such a file would be reported as corrupt (no container reader recognises
//! `#!AMR`) or, worse, as a video without sound (Symphonia's MP4 reader skips sample
//! entries it does not know, so a 3GP with AMR sound seems to have no audio track). This
//! module names the format so the per-file error says what the file is and what to do.
//!
//! AMR storage format: RFC 4867 §5 (the `#!AMR\n` and `#!AMR-WB\n` magic numbers). MP4 and
//! 3GP: ISO/IEC 14496-12 box structure (`moov/trak/mdia/hdlr` names the track's kind,
//! `minf/stbl/stsd` its sample entry, whose four-character code is the codec: `samr`
//! AMR-NB, `sawb` AMR-WB, 3GPP TS 26.244 §6.5).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// File-level magic numbers of formats no decoder here reads, longest first.
const MAGIC: &[(&[u8], &str)] = &[
    (b"#!AMR-WB_MC1.0\n", "AMR-WB speech"),
    (b"#!AMR_MC1.0\n", "AMR-NB speech"),
    (b"#!AMR-WB\n", "AMR-WB speech"),
    (b"#!AMR\n", "AMR-NB speech"),
    // The ASF header object's GUID (Windows Media Audio and Video).
    (&[0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11], "Windows Media (ASF)"),
];

/// Boxes read at one level before giving up on a damaged file.
const MAX_BOXES: usize = 4096;

/// The name of the undecodable sound format `path` holds, if its bytes say so: an AMR or
/// ASF file, or an MP4/3GP whose sound track's codec blastscan has no decoder for.
pub fn undecodable_format(path: &Path) -> Option<String> {
    let mut file = File::open(path).ok()?;
    let mut head = Vec::with_capacity(16);
    (&mut file).take(16).read_to_end(&mut head).ok()?;
    if let Some((_, name)) = MAGIC.iter().find(|(magic, _)| head.starts_with(magic)) {
        return Some((*name).to_string());
    }
    if head.get(4..8) != Some(b"ftyp".as_slice()) {
        return None;
    }
    let end = file.metadata().ok()?.len();
    let code = sound_sample_entry(&mut file, end)?;
    Some(match &code {
        b"samr" => "AMR-NB speech".to_string(),
        b"sawb" => "AMR-WB speech".to_string(),
        _ => format!("the '{}' codec", printable(&code)),
    })
}

/// The sample entry code of the first sound track (`hdlr` type `soun`) in an ISO file.
fn sound_sample_entry(file: &mut File, end: u64) -> Option<[u8; 4]> {
    let moov = children(file, 0, end).into_iter().find(|b| &b.kind == b"moov")?;
    for trak in children(file, moov.start, moov.end).into_iter().filter(|b| &b.kind == b"trak") {
        let Some(mdia) = child(file, trak, b"mdia") else { continue };
        let Some(hdlr) = child(file, mdia, b"hdlr") else { continue };
        // hdlr: version and flags (4), pre_defined (4), handler_type (4).
        if read_at::<4>(file, hdlr.start + 8) != Some(*b"soun") {
            continue;
        }
        let stsd = [b"minf", b"stbl", b"stsd"]
            .iter()
            .try_fold(mdia, |parent, kind| child(file, parent, kind))?;
        // stsd: version and flags (4), entry_count (4), then the first entry's size (4) and
        // code (4).
        return read_at::<4>(file, stsd.start + 12);
    }
    None
}

/// A box's type and where its payload lies.
#[derive(Debug, Clone, Copy)]
struct IsoBox {
    kind: [u8; 4],
    start: u64,
    end: u64,
}

/// The boxes laid end to end in `start..end`, up to the first that does not fit.
fn children(file: &mut File, start: u64, end: u64) -> Vec<IsoBox> {
    let mut found = Vec::new();
    let mut at = start;
    while at + 8 <= end && found.len() < MAX_BOXES {
        let Some(header) = read_at::<8>(file, at) else { break };
        let size = u64::from(u32::from_be_bytes([header[0], header[1], header[2], header[3]]));
        let kind = [header[4], header[5], header[6], header[7]];
        let (header_len, size) = match size {
            0 => (8, end - at),
            1 => match read_at::<8>(file, at + 8) {
                Some(large) => (16, u64::from_be_bytes(large)),
                None => break,
            },
            n => (8, n),
        };
        let Some(box_end) = at.checked_add(size).filter(|&e| size >= header_len && e <= end) else {
            break;
        };
        found.push(IsoBox { kind, start: at + header_len, end: box_end });
        at = box_end;
    }
    found
}

/// The first child of `parent` of type `kind`.
fn child(file: &mut File, parent: IsoBox, kind: &[u8; 4]) -> Option<IsoBox> {
    children(file, parent.start, parent.end).into_iter().find(|b| &b.kind == kind)
}

fn read_at<const N: usize>(file: &mut File, at: u64) -> Option<[u8; N]> {
    let mut buf = [0u8; N];
    file.seek(SeekFrom::Start(at)).ok()?;
    file.read_exact(&mut buf).ok()?;
    Some(buf)
}

/// A four-character code as text, anything but ASCII letters, digits and spaces as `?`
/// (it comes from the file and ends up in messages and reports).
fn printable(code: &[u8; 4]) -> String {
    code.iter()
        .map(|&b| if b.is_ascii_alphanumeric() || b == b' ' { b as char } else { '?' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iso_box(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut b = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
        b.extend_from_slice(kind);
        b.extend_from_slice(payload);
        b
    }

    /// An MP4 skeleton with one track of handler `handler` and sample entry `entry`.
    fn mp4(handler: &[u8; 4], entry: &[u8; 4]) -> Vec<u8> {
        let hdlr = iso_box(b"hdlr", &[&[0u8; 8][..], handler, &[0u8; 12]].concat());
        let stsd =
            iso_box(b"stsd", &[&[0, 0, 0, 0, 0, 0, 0, 1][..], &iso_box(entry, &[0; 28])].concat());
        let minf = iso_box(b"minf", &iso_box(b"stbl", &stsd));
        let trak = iso_box(b"trak", &iso_box(b"mdia", &[hdlr, minf].concat()));
        let mut file = iso_box(b"ftyp", b"3gp4\x00\x00\x00\x003gp4");
        file.extend(iso_box(b"mdat", &[7; 100]));
        file.extend(iso_box(b"moov", &trak));
        file
    }

    fn sniff(bytes: &[u8]) -> Option<String> {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("f");
        std::fs::write(&path, bytes).expect("write");
        undecodable_format(&path)
    }

    #[test]
    fn amr_files_and_amr_sound_in_3gp_are_named() {
        assert_eq!(sniff(b"#!AMR\n\x3c0123").as_deref(), Some("AMR-NB speech"));
        assert_eq!(sniff(b"#!AMR-WB\n\x24").as_deref(), Some("AMR-WB speech"));
        assert_eq!(sniff(&mp4(b"soun", b"samr")).as_deref(), Some("AMR-NB speech"));
        assert_eq!(sniff(&mp4(b"soun", b"sawb")).as_deref(), Some("AMR-WB speech"));
        assert_eq!(sniff(&mp4(b"soun", b"q\x01cp")).as_deref(), Some("the 'q?cp' codec"));
    }

    #[test]
    fn other_files_are_not_named() {
        // A video track only, a short or damaged file, something else entirely.
        assert_eq!(sniff(&mp4(b"vide", b"avc1")), None);
        let whole = mp4(b"soun", b"samr");
        assert_eq!(sniff(&whole[..whole.len() - 30]), None, "moov cut short");
        assert_eq!(sniff(b"#!AM"), None);
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVEfmt "), None);
        assert_eq!(sniff(b""), None);
    }
}
