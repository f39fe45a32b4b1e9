//! A direct reader for the common kinds of PCM WAV: 16- and 24-bit integer and 32-bit float,
//! little-endian, interleaved, any channel count.
//!
//! Symphonia decodes these too, but through a per-sample closure into a planar buffer that is
//! then copied out interleaved: on a 48 kHz WAV that was a fifth of the whole scan. Here the
//! bytes of the `data` chunk are converted straight to `f32` with the same formulas as
//! Symphonia's sample conversions (`s / 32768` for 16-bit, `s / 8388608` for 24-bit), so the
//! samples, and everything computed from them, are the same to the bit; a test checks it
//! against Symphonia on every supported layout.
//!
//! Anything else (8- and 32-bit integer, 64-bit float, A-law, ADPCM, big-endian RIFX, a
//! `fmt ` chunk this reader does not understand) is left to Symphonia:
//! [`probe`] answers `None` and the caller goes the general way.
//!
//! File layout: RIFF chunks (Microsoft, "Multimedia Programming Interface and Data
//! Specifications 1.0", 1991; `WAVE_FORMAT_EXTENSIBLE` from Microsoft's "Multiple Channel
//! Audio Data and WAVE Files", 2001). The bytes come from a [`Source`], so a `data` size that
//! the salvage stage mended (a header never finalised, a truncated copy) is read as mended.

use std::io::{Read, Seek, SeekFrom};

use crate::detect::salvage::Source;

/// `wFormatTag` of integer PCM.
const WAVE_FORMAT_PCM: u16 = 1;
/// `wFormatTag` of IEEE float.
const WAVE_FORMAT_IEEE_FLOAT: u16 = 3;
/// `wFormatTag` saying the real format is in the extension's sub-format GUID.
const WAVE_FORMAT_EXTENSIBLE: u16 = 0xFFFE;
/// Bytes read per chunk handed on (whole frames of them): large reads, few system calls.
const CHUNK_BYTES: usize = 1 << 16;
/// Chunks looked at before `data` (LIST, fact, bext, ...) before giving up on the fast path.
const MAX_CHUNKS_BEFORE_DATA: usize = 64;

/// How the samples of a supported WAV are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// 16-bit signed integer.
    S16,
    /// 24-bit signed integer, packed in three bytes.
    S24,
    /// 32-bit IEEE float.
    F32,
}

impl Encoding {
    /// Bytes per sample.
    fn width(self) -> usize {
        match self {
            Encoding::S16 => 2,
            Encoding::S24 => 3,
            Encoding::F32 => 4,
        }
    }

    /// Symphonia's short name for the codec, so the index reads the same either way.
    pub fn codec_name(self) -> &'static str {
        match self {
            Encoding::S16 => "pcm_s16le",
            Encoding::S24 => "pcm_s24le",
            Encoding::F32 => "pcm_f32le",
        }
    }
}

/// What [`probe`] found: the layout of the samples and where they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// How each sample is stored.
    pub encoding: Encoding,
    /// Interleaved channels per frame.
    pub channels: u16,
    /// Frames per second.
    pub sample_rate: u32,
    /// Offset of the first sample byte.
    data_start: u64,
    /// Length of the `data` chunk in bytes (as mended).
    data_len: u64,
}

/// Reads the RIFF header of `source`. `Some` when the file is a WAV this reader handles;
/// `None` otherwise, and then nothing is promised about the source's read position.
pub fn probe(source: &mut Source) -> std::io::Result<Option<Layout>> {
    let mut head = [0u8; 12];
    if !read_full(source, &mut head)? || &head[..4] != b"RIFF" || &head[8..] != b"WAVE" {
        return Ok(None);
    }
    let mut pos = 12u64;
    let mut format: Option<(Encoding, u16, u32)> = None;
    for _ in 0..MAX_CHUNKS_BEFORE_DATA {
        let mut header = [0u8; 8];
        source.seek(SeekFrom::Start(pos))?;
        if !read_full(source, &mut header)? {
            return Ok(None);
        }
        let id = &header[..4];
        let len = u64::from(u32::from_le_bytes([header[4], header[5], header[6], header[7]]));
        let body = pos + 8;
        if id == b"fmt " {
            let mut fmt = vec![0u8; usize::try_from(len.min(64)).unwrap_or(64)];
            if !read_full(source, &mut fmt)? {
                return Ok(None);
            }
            format = parse_fmt(&fmt);
            if format.is_none() {
                return Ok(None);
            }
        } else if id == b"data" {
            let Some((encoding, channels, sample_rate)) = format else { return Ok(None) };
            return Ok(Some(Layout {
                encoding,
                channels,
                sample_rate,
                data_start: body,
                data_len: len,
            }));
        }
        // Chunks are padded to an even length.
        pos = body + len + (len & 1);
    }
    Ok(None)
}

/// The encoding, channel count and rate of a `fmt ` chunk this reader handles.
fn parse_fmt(fmt: &[u8]) -> Option<(Encoding, u16, u32)> {
    let u16_at = |i: usize| Some(u16::from_le_bytes([*fmt.get(i)?, *fmt.get(i + 1)?]));
    let u32_at = |i: usize| {
        Some(u32::from_le_bytes([
            *fmt.get(i)?,
            *fmt.get(i + 1)?,
            *fmt.get(i + 2)?,
            *fmt.get(i + 3)?,
        ]))
    };
    let mut tag = u16_at(0)?;
    let channels = u16_at(2)?;
    let sample_rate = u32_at(4)?;
    let block_align = u16_at(12)?;
    let bits = u16_at(14)?;
    if tag == WAVE_FORMAT_EXTENSIBLE {
        // cbSize (22), wValidBitsPerSample, dwChannelMask, then the sub-format GUID whose
        // first two bytes are the format tag.
        if u16_at(16)? < 22 || u16_at(18)? != bits {
            return None;
        }
        tag = u16_at(24)?;
    }
    let encoding = match (tag, bits) {
        (WAVE_FORMAT_PCM, 16) => Encoding::S16,
        (WAVE_FORMAT_PCM, 24) => Encoding::S24,
        (WAVE_FORMAT_IEEE_FLOAT, 32) => Encoding::F32,
        _ => return None,
    };
    let frame = usize::from(channels) * encoding.width();
    (channels > 0 && sample_rate > 0 && usize::from(block_align) == frame).then_some((
        encoding,
        channels,
        sample_rate,
    ))
}

/// Streams the samples of a [`Layout`] as interleaved `f32`.
#[derive(Debug)]
pub struct Reader {
    source: Source,
    layout: Layout,
    /// Sample bytes not read yet.
    left: u64,
    bytes: Vec<u8>,
}

impl Reader {
    /// A reader positioned at the first sample.
    pub fn new(mut source: Source, layout: Layout) -> std::io::Result<Reader> {
        source.seek(SeekFrom::Start(layout.data_start))?;
        Ok(Reader { source, layout, left: layout.data_len, bytes: Vec::new() })
    }

    /// What is being read.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Replaces `out` with the next whole frames, interleaved. Returns false at the end (of
    /// the `data` chunk or of the file: a partial last frame is dropped).
    pub fn next_frames(&mut self, out: &mut Vec<f32>) -> std::io::Result<bool> {
        out.clear();
        let frame = usize::from(self.layout.channels) * self.layout.encoding.width();
        let chunk = (CHUNK_BYTES / frame).max(1) * frame;
        let want = usize::try_from(self.left).unwrap_or(usize::MAX).min(chunk);
        self.bytes.resize(want, 0);
        let mut got = 0;
        while got < want {
            match self.source.read(&mut self.bytes[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let whole = got - got % frame;
        if whole == 0 {
            self.left = 0;
            return Ok(false);
        }
        self.left = if got < want { 0 } else { self.left - want as u64 };
        convert(self.layout.encoding, &self.bytes[..whole], out);
        Ok(true)
    }
}

/// Little-endian samples to `f32`, with Symphonia's formulas.
fn convert(encoding: Encoding, bytes: &[u8], out: &mut Vec<f32>) {
    match encoding {
        Encoding::S16 => out.extend(
            bytes.chunks_exact(2).map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32_768.0),
        ),
        Encoding::S24 => out.extend(bytes.chunks_exact(3).map(|b| {
            // Sign-extend by placing the three bytes at the top of an i32 and shifting back.
            let s = i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8;
            s as f32 / 8_388_608.0
        })),
        Encoding::F32 => {
            out.extend(bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
        }
    }
}

/// Fills `buf` from `source`; false if the file ends first.
fn read_full(source: &mut Source, buf: &mut [u8]) -> std::io::Result<bool> {
    match source.read_exact(buf) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt_chunk(tag: u16, channels: u16, rate: u32, bits: u16) -> Vec<u8> {
        let align = channels * bits / 8;
        let mut f = Vec::new();
        f.extend_from_slice(&tag.to_le_bytes());
        f.extend_from_slice(&channels.to_le_bytes());
        f.extend_from_slice(&rate.to_le_bytes());
        f.extend_from_slice(&(rate * u32::from(align)).to_le_bytes());
        f.extend_from_slice(&align.to_le_bytes());
        f.extend_from_slice(&bits.to_le_bytes());
        f
    }

    #[test]
    fn supported_layouts_are_recognised_and_others_left_to_symphonia() {
        assert_eq!(parse_fmt(&fmt_chunk(1, 2, 48000, 16)), Some((Encoding::S16, 2, 48000)));
        assert_eq!(parse_fmt(&fmt_chunk(1, 1, 44100, 24)), Some((Encoding::S24, 1, 44100)));
        assert_eq!(parse_fmt(&fmt_chunk(3, 1, 16000, 32)), Some((Encoding::F32, 1, 16000)));
        assert_eq!(parse_fmt(&fmt_chunk(1, 1, 8000, 8)), None, "8-bit");
        assert_eq!(parse_fmt(&fmt_chunk(1, 1, 8000, 32)), None, "32-bit integer");
        assert_eq!(parse_fmt(&fmt_chunk(6, 1, 8000, 8)), None, "A-law");
        assert_eq!(parse_fmt(&fmt_chunk(1, 0, 8000, 16)), None, "no channels");
        let mut bad_align = fmt_chunk(1, 2, 8000, 16);
        bad_align[12] = 3;
        assert_eq!(parse_fmt(&bad_align), None, "block align");
        assert_eq!(parse_fmt(&fmt_chunk(1, 2, 8000, 16)[..10]), None, "short chunk");
        // WAVE_FORMAT_EXTENSIBLE: 24 valid bits of 24, PCM sub-format; 20 of 24 is not ours.
        let extensible = |valid: u16| {
            let mut f = fmt_chunk(WAVE_FORMAT_EXTENSIBLE, 2, 48000, 24);
            f.extend_from_slice(&22u16.to_le_bytes());
            f.extend_from_slice(&valid.to_le_bytes());
            f.extend_from_slice(&3u32.to_le_bytes());
            f.extend_from_slice(&WAVE_FORMAT_PCM.to_le_bytes());
            f.extend_from_slice(&[0; 14]);
            f
        };
        assert_eq!(parse_fmt(&extensible(24)), Some((Encoding::S24, 2, 48000)));
        assert_eq!(parse_fmt(&extensible(20)), None);
    }

    #[test]
    fn samples_convert_with_symphonias_formulas() {
        let mut out = Vec::new();
        convert(Encoding::S16, &[0x00, 0x80, 0xff, 0x7f, 0x01, 0x00], &mut out);
        assert_eq!(out, vec![-1.0, 32767.0 / 32768.0, 1.0 / 32768.0]);
        out.clear();
        convert(Encoding::S24, &[0x00, 0x00, 0x80, 0xff, 0xff, 0xff], &mut out);
        assert_eq!(out, vec![-1.0, -1.0 / 8_388_608.0]);
        out.clear();
        convert(Encoding::F32, &0.25f32.to_le_bytes(), &mut out);
        assert_eq!(out, vec![0.25]);
    }
}
