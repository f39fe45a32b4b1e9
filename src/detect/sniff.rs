//! What a recording no decoder here can read is, told from its bytes.
//!
//! Phones still write sound blastscan cannot decode: multichannel AMR files, Windows Media,
//! QCELP or EVRC speech in the 3GPP2 files of CDMA phones. Without a look at the bytes such
//! a file would be reported as corrupt (no container reader recognises it) or, worse, as a
//! video without sound (Symphonia's MP4 reader skips sample entries it does not know, so
//! such a track seems not to be there). This module names the format so the per-file error
//! says what the file is and what to do.
//!
//! Magic numbers: RFC 4867 §5 (multichannel AMR storage), the ASF header object's GUID.
//! MP4, 3GP and 3G2 sound tracks: [`crate::detect::iso`] (3GPP2 C.S0050 names `sqcp` and
//! `sevc`).

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::detect::iso;

/// File-level magic numbers of formats no decoder here reads, longest first.
const MAGIC: &[(&[u8], &str)] = &[
    // Single-channel AMR files are read ([`crate::detect::amr`]); these are not.
    (b"#!AMR-WB_MC1.0\n", "multichannel AMR-WB speech"),
    (b"#!AMR_MC1.0\n", "multichannel AMR-NB speech"),
    // The ASF header object's GUID (Windows Media Audio and Video).
    (&[0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11], "Windows Media (ASF)"),
];

/// The name of the undecodable sound format `path` holds, if its bytes say so: a
/// multichannel AMR or an ASF file, or an MP4/3GP whose sound track's codec blastscan has no
/// decoder for.
pub fn undecodable_format(path: &Path) -> Option<String> {
    let mut head = Vec::with_capacity(16);
    File::open(path).ok()?.take(16).read_to_end(&mut head).ok()?;
    if let Some((_, name)) = MAGIC.iter().find(|(magic, _)| head.starts_with(magic)) {
        return Some((*name).to_string());
    }
    // AMR sound tracks (`samr`, `sawb`) are read by the AMR reader before this is asked.
    let code = iso::sound_track(path)?.code;
    Some(match &code {
        // 3GPP2 (.3g2) files from CDMA phones.
        b"sqcp" => "QCELP speech".to_string(),
        b"sevc" => "EVRC speech".to_string(),
        _ => format!("the '{}' codec", printable(&code)),
    })
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

    fn mp4(handler: &[u8; 4], entry: &[u8; 4]) -> Vec<u8> {
        iso::testing::mp4(handler, entry, &[])
    }

    fn sniff(bytes: &[u8]) -> Option<String> {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("f");
        std::fs::write(&path, bytes).expect("write");
        undecodable_format(&path)
    }

    #[test]
    fn multichannel_amr_wma_and_qcelp_in_3g2_are_named() {
        assert_eq!(
            sniff(b"#!AMR_MC1.0\n\0\0\0\x01").as_deref(),
            Some("multichannel AMR-NB speech")
        );
        let wma = [0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11, 0xA6, 0xD9];
        assert_eq!(sniff(&wma).as_deref(), Some("Windows Media (ASF)"));
        assert_eq!(sniff(&mp4(b"soun", b"sqcp")).as_deref(), Some("QCELP speech"));
        assert_eq!(sniff(&mp4(b"soun", b"q\x01cp")).as_deref(), Some("the 'q?cp' codec"));
    }

    #[test]
    fn other_files_are_not_named() {
        // A video track only, a short or damaged file, something else entirely.
        assert_eq!(sniff(&mp4(b"vide", b"avc1")), None);
        let whole = mp4(b"soun", b"sqcp");
        assert_eq!(sniff(&whole[..whole.len() - 30]), None, "moov cut short");
        assert_eq!(sniff(b"#!AM"), None);
        assert_eq!(sniff(b"#!AMR\n\x3c"), None, "single-channel AMR is read, not refused");
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVEfmt "), None);
        assert_eq!(sniff(b""), None);
    }
}
