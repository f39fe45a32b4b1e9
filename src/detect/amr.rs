//! AMR speech (`.amr` narrowband at 8 kHz, `.awb` wideband at 16 kHz, and the sound of 3GP
//! video): what Android recorders, older messengers and basic phones write, and what
//! Symphonia cannot read.
//!
//! File layout: RFC 4867 §5 storage format, a magic number (`#!AMR\n`, `#!AMR-WB\n`) then
//! one record per 20 ms frame, a table-of-contents octet (frame type in bits 6-3, the
//! quality bit in bit 2) followed by the frame's bits padded to whole octets. Records are
//! read one at a time, so memory does not grow with the file.
//!
//! In MP4 and 3GP files (basic phones' video) the same records are the samples of a sound
//! track with sample entry `samr` or `sawb` (3GPP TS 26.244 §6.5), found by
//! [`crate::detect::iso`] since Symphonia passes over such tracks.
//!
//! Frames are decoded by `rvoip-codec-core`, whose AMR-NB and AMR-WB decoders reproduce the
//! 3GPP reference decoders (TS 26.073, TS 26.173) sample for sample: its own tests check
//! every mode, and its output for the 3GPP sequences it ships (AMR-NB modes 0, 4, 7) was
//! compared with their reference output, byte for byte, before it was adopted. Comfort-noise
//! (SID) and no-data frames of discontinuous transmission are decoded as the reference
//! does. A frame the decoder refuses becomes 20 ms of silence and is counted, as a skipped
//! packet is elsewhere. Multichannel AMR files are not read (the decoder has no such mode):
//! [`probe`] answers `None` and [`crate::detect::sniff`] names them.

use std::io::{BufReader, ErrorKind, Read, Seek, SeekFrom};

use codec_core::codecs::amr::{AmrCodec, AmrFrameType, AmrVariant};
use codec_core::types::{CodecConfig, CodedFrame, FrameKind, VariableRateCodec};

use crate::detect::salvage::Source;

/// Frames decoded per chunk handed on: one second.
const FRAMES_PER_CHUNK: usize = 50;

/// The variant of a single-channel AMR file, read from its magic number; the source is
/// left just after it. `None` for anything else.
pub fn probe(source: &mut Source) -> std::io::Result<Option<AmrVariant>> {
    let mut head = Vec::with_capacity(9);
    source.seek(SeekFrom::Start(0))?;
    source.by_ref().take(9).read_to_end(&mut head)?;
    let found = [(&b"#!AMR-WB\n"[..], AmrVariant::WideBand), (b"#!AMR\n", AmrVariant::NarrowBand)]
        .into_iter()
        .find(|(magic, _)| head.starts_with(magic));
    let Some((magic, variant)) = found else { return Ok(None) };
    source.seek(SeekFrom::Start(magic.len() as u64))?;
    Ok(Some(variant))
}

/// The AMR variant of an MP4/3GP sample entry code (3GPP TS 26.244 §6.5).
pub fn variant_of_sample_entry(code: &[u8; 4]) -> Option<AmrVariant> {
    match code {
        b"samr" => Some(AmrVariant::NarrowBand),
        b"sawb" => Some(AmrVariant::WideBand),
        _ => None,
    }
}

/// Streams mono samples out of AMR records.
pub struct Reader {
    source: BufReader<Box<dyn Read + Send>>,
    codec: AmrCodec,
    variant: AmrVariant,
    /// The last speech mode seen: what comfort noise and lost frames are decoded against.
    mode: u8,
    /// Frames the decoder refused since [`Reader::take_skipped`] was last called.
    skipped: u64,
    frame: Vec<u8>,
    /// An error met after some samples of a chunk: reported on the next call.
    pending: Option<std::io::Error>,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader").field("variant", &self.variant).finish_non_exhaustive()
    }
}

impl Reader {
    /// A reader over AMR records: a file's after its magic number ([`probe`]), or the
    /// samples of an MP4/3GP sound track ([`crate::detect::iso::Runs`]).
    pub fn new(source: impl Read + Send + 'static, variant: AmrVariant) -> Result<Reader, String> {
        let config = match variant {
            AmrVariant::NarrowBand => CodecConfig::amr_nb(),
            AmrVariant::WideBand => CodecConfig::amr_wb(),
        };
        let codec = AmrCodec::new(&config).map_err(|e| e.to_string())?;
        let mode = variant.speech_mode_count() - 1;
        Ok(Reader {
            source: BufReader::new(Box::new(source)),
            codec,
            variant,
            mode,
            skipped: 0,
            frame: Vec::new(),
            pending: None,
        })
    }

    /// Samples per second: 8 kHz narrowband, 16 kHz wideband.
    pub fn sample_rate(&self) -> u32 {
        match self.variant {
            AmrVariant::NarrowBand => 8000,
            AmrVariant::WideBand => 16000,
        }
    }

    /// Short codec name for the index.
    pub fn codec_name(&self) -> &'static str {
        match self.variant {
            AmrVariant::NarrowBand => "amr_nb",
            AmrVariant::WideBand => "amr_wb",
        }
    }

    /// Frames the decoder refused (each became silence) since the last call.
    pub fn take_skipped(&mut self) -> u64 {
        std::mem::take(&mut self.skipped)
    }

    /// Replaces `out` with up to a second of samples. `Ok(false)` at the end; an error for
    /// a record cut short or a reserved frame type, after which nothing more can be read
    /// (the records have no other framing).
    pub fn next_frames(&mut self, out: &mut Vec<f32>) -> std::io::Result<bool> {
        out.clear();
        if let Some(e) = self.pending.take() {
            return Err(e);
        }
        for _ in 0..FRAMES_PER_CHUNK {
            match self.next_frame(out) {
                Ok(true) => {}
                Ok(false) => break,
                // What was decoded before the damage is handed on first.
                Err(e) if !out.is_empty() => {
                    self.pending = Some(e);
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(!out.is_empty())
    }

    /// Reads and decodes one record onto `out`; `Ok(false)` at the end of the file.
    fn next_frame(&mut self, out: &mut Vec<f32>) -> std::io::Result<bool> {
        let mut toc = [0u8; 1];
        if self.source.read(&mut toc)? == 0 {
            return Ok(false);
        }
        let kind = AmrFrameType::from_index(self.variant, toc[0] >> 3 & 0x0F).map_err(|e| {
            std::io::Error::new(ErrorKind::InvalidData, format!("damaged AMR data: {e}"))
        })?;
        self.frame.resize(kind.octet_aligned_bytes(), 0);
        self.source.read_exact(&mut self.frame)?;
        let frame = self.coded(kind, toc[0] >> 2 & 1 == 1);
        match self.codec.decode_frame(&frame) {
            Ok(samples) => out.extend(samples.iter().map(|&s| f32::from(s) / 32768.0)),
            Err(_) => {
                self.skipped += 1;
                out.resize(out.len() + self.variant.frame_samples(), 0.0);
            }
        }
        // The record's buffer serves the next one: no allocation per frame.
        self.frame = frame.data;
        Ok(true)
    }

    /// The decoder's view of a record.
    fn coded(&mut self, kind: AmrFrameType, quality_ok: bool) -> CodedFrame {
        let data = std::mem::take(&mut self.frame);
        let (kind, quality_ok) = match kind {
            AmrFrameType::Speech(mode) => {
                self.mode = mode.index();
                (FrameKind::Speech, quality_ok)
            }
            AmrFrameType::Sid(_) => (FrameKind::ComfortNoise, quality_ok),
            AmrFrameType::NoData => (FrameKind::NoData, true),
            AmrFrameType::SpeechLost => (FrameKind::Lost, false),
        };
        CodedFrame { kind, mode: self.mode, quality_ok, data }
    }
}

#[cfg(test)]
mod tests {
    use crate::detect::decode::Decoder;
    use std::path::{Path, PathBuf};

    fn fixture(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
    }

    /// Every sample of `path`, its codec and rate, and the decoder's warnings.
    fn decode(path: &Path) -> (Vec<f32>, String, u32, Vec<String>) {
        let mut decoder = Decoder::open(path).expect("opens");
        let (mut chunk, mut all) = (Vec::new(), Vec::new());
        while decoder.next_chunk(&mut chunk).expect("decodes") {
            all.extend_from_slice(&chunk);
        }
        let info = decoder.info().clone();
        (all, info.codec, info.sample_rate, decoder.warnings().to_vec())
    }

    #[test]
    fn an_amr_file_and_the_same_frames_in_3gp_decode_alike() {
        let (file, codec, rate, warnings) = decode(&fixture("blast_at_3s_amr_nb.amr"));
        assert_eq!((codec.as_str(), rate, file.len()), ("amr_nb", 8000, 6 * 8000));
        assert!(warnings.is_empty(), "{warnings:?}");
        assert!(file.iter().any(|&s| s.abs() > 0.1), "the blast is there");
        let (in_3gp, codec, ..) = decode(&fixture("blast_at_3s_amr_nb.3gp"));
        assert_eq!(codec, "amr_nb");
        assert!(file == in_3gp, "3GP samples differ from the .amr file's");
        let (wide, codec, rate, _) = decode(&fixture("blast_at_3s_amr_wb.awb"));
        assert_eq!((codec.as_str(), rate, wide.len()), ("amr_wb", 16000, 6 * 16000));
    }

    #[test]
    fn a_cut_or_damaged_file_keeps_what_came_before_and_says_so() {
        let bytes = std::fs::read(fixture("blast_at_3s_amr_nb.amr")).expect("fixture");
        let (whole, ..) = decode(&fixture("blast_at_3s_amr_nb.amr"));
        let dir = tempfile::tempdir().expect("temp dir");
        // 12.2 kbit/s records are 32 bytes after the 6-byte magic: cut inside record 100,
        // then mark record 70 with a reserved frame type (12).
        let cut = dir.path().join("cut.amr");
        std::fs::write(&cut, &bytes[..6 + 100 * 32 + 10]).expect("write");
        let (samples, _, _, warnings) = decode(&cut);
        assert!(samples == whole[..100 * 160], "the 100 whole frames, as in the full file");
        assert!(warnings.iter().any(|w| w.contains("ended early")), "{warnings:?}");
        let mut damaged = bytes.clone();
        damaged[6 + 70 * 32] = 12 << 3 | 0x04;
        let path = dir.path().join("damaged.amr");
        std::fs::write(&path, damaged).expect("write");
        let (samples, _, _, warnings) = decode(&path);
        assert_eq!(samples.len(), 70 * 160);
        assert!(warnings.iter().any(|w| w.contains("damaged AMR data")), "{warnings:?}");
    }
}
