//! Decode stage: any recording a phone or messaging app produces, streamed as mono `f32`.
//!
//! Contract for later stages: [`Decoder::next_chunk`] yields mono samples in -1..1 at
//! [`AudioInfo::sample_rate`], chunk by chunk (one codec packet at a time), so memory does
//! not grow with the file's length. Multichannel audio is downmixed by averaging channels.
//!
//! Follows the Symphonia 0.6 decode loop (`symphonia-play::decode_only`): `next_packet()`
//! returns `Ok(None)` at the end; a packet that fails with `DecodeError` is skipped and
//! counted; any other error ends the file. Opus comes from `symphonia-adapter-libopus`
//! (Symphonia has no Opus decoder), registered beside Symphonia's own codecs; for analysis
//! it decodes Opus at a third of its rate ([`Decoder::open_for_analysis`]).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use symphonia::core::codecs::audio::well_known::CODEC_ID_OPUS;
use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::codecs::registry::CodecRegistry;
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use crate::detect::salvage::{self, Source};
use crate::detect::{amr, iso, opus, pcm, sniff};
use crate::error::FileError;

/// What the container says about the audio track.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioInfo {
    /// Sample rate of the decoded audio, in Hz.
    pub sample_rate: u32,
    /// The stream's own sample rate, Hz (differs from `sample_rate` when Opus is decoded
    /// at the analysis rate, see [`Decoder::open_for_analysis`]).
    pub source_rate: u32,
    /// Channel count of the source (before downmixing).
    pub channels: u16,
    /// Short codec name (`opus`, `aac`, `mp3`, `pcm_s16le`, ...).
    pub codec: String,
}

/// Symphonia's enabled codecs plus libopus, built once.
fn codecs() -> &'static CodecRegistry {
    static REGISTRY: OnceLock<CodecRegistry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut registry = CodecRegistry::new();
        symphonia::default::register_enabled_codecs(&mut registry);
        registry.register_audio_decoder::<symphonia_adapter_libopus::OpusDecoder>();
        registry
    })
}

/// A streaming decoder for one recording.
pub struct Decoder {
    backend: Backend,
    info: AudioInfo,
    interleaved: Vec<f32>,
    skipped_packets: u64,
    warnings: Vec<String>,
    finished: bool,
    /// Decoder priming frames still to drop from the start of the stream.
    skip_frames: usize,
    /// The file, for opening the next link of a chained Ogg file.
    path: PathBuf,
    /// Its extension, a hint for the container probe.
    ext: Option<String>,
    /// Byte ranges of the chained Ogg links not read yet.
    links: VecDeque<(u64, u64)>,
    /// The rate Opus is decoded at, when not its own.
    opus_rate: Option<u32>,
}

/// Where the samples come from.
enum Backend {
    /// Symphonia's container reader and codec (or the libopus adapter).
    Symphonia { format: Box<dyn FormatReader>, decoder: Box<dyn AudioDecoder>, track_id: u32 },
    /// The direct PCM WAV reader ([`crate::detect::pcm`]).
    Pcm(pcm::Reader),
    /// AMR speech files ([`crate::detect::amr`]).
    Amr(amr::Reader),
}

/// AAC encoders prime the decoder with 1024 frames (one AAC-LC frame), Apple's with 2112,
/// and an MP4 edit list hides them. Symphonia 0.6.1 does not apply edit lists, so without
/// dropping them every time in an M4A/MP4/3GP file would come out 21 ms (48 kHz) to 132 ms
/// (16 kHz) late, and the priming's start-up transient could look like an onset. The
/// priming is read from the edit list ([`aac_priming`]); this is used without one (ADTS
/// `.aac` files, MP4s without `edts`).
const AAC_PRIMING_FRAMES: usize = 1024;

/// Longest priming taken from an edit list, in frames at the stream's rate: twice Apple's.
/// An edit that starts later trims real audio, which is evidence and is kept.
const MAX_EDIT_PRIMING_FRAMES: u64 = 2 * 2112;

/// Frames of AAC priming to drop from the start of `path`'s stream at `rate` Hz: what its
/// MP4 edit list skips, if it has one that looks like priming, else [`AAC_PRIMING_FRAMES`].
fn aac_priming(path: &Path, rate: u32) -> usize {
    iso::edit_start(path)
        .filter(|&(_, timescale)| timescale > 0 && rate > 0)
        .map(|(time, timescale)| time.saturating_mul(u64::from(rate)) / u64::from(timescale))
        .filter(|&frames| frames <= MAX_EDIT_PRIMING_FRAMES)
        .map_or(AAC_PRIMING_FRAMES, |frames| frames as usize)
}

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder").field("info", &self.info).finish_non_exhaustive()
    }
}

impl Decoder {
    /// Opens `path`, probes its container and prepares a decoder for its first audio track.
    /// Broken length fields are mended and chained Ogg links are read one after another
    /// (see [`crate::detect::salvage`]).
    pub fn open(path: &Path) -> Result<Self, FileError> {
        Self::open_at(path, None)
    }

    /// [`Decoder::open`] for analysis: Opus is decoded by libopus straight to mono at
    /// [`opus::ANALYSIS_DECODE_RATE`] (see [`crate::detect::opus`]), a third of its own rate,
    /// so the resampler has less to do; other codecs decode at their own rate.
    pub fn open_for_analysis(path: &Path) -> Result<Self, FileError> {
        Self::open_at(path, Some(opus::ANALYSIS_DECODE_RATE))
    }

    fn open_at(path: &Path, opus_rate: Option<u32>) -> Result<Self, FileError> {
        let file = File::open(path)?;
        if file.metadata()?.len() == 0 {
            return Err(FileError::Empty);
        }
        let mut links: VecDeque<(u64, u64)> = salvage::ogg_links(path)?.into();
        let source = match links.pop_front() {
            Some((start, end)) if !links.is_empty() => Source::window(path, start, end)?,
            _ => {
                links.clear();
                Source::open(path)?
            }
        };
        let mended = source.mended.clone();
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_string);
        let (backend, info) = match open_backend(source, ext.as_deref(), opus_rate) {
            // Symphonia passes over an MP4/3GP sound track it has no decoder for, and knows
            // no container of some formats phones write: read AMR tracks here, and name the
            // rest rather than call the file corrupt or silent.
            Err(e @ (FileError::UnknownFormat(_) | FileError::NoAudioTrack)) => {
                match amr_track(path)? {
                    Some(opened) => opened,
                    None => {
                        let named = sniff::undecodable_format(path);
                        return Err(named.map_or(e, FileError::UnsupportedCodec));
                    }
                }
            }
            opened => opened?,
        };
        let skip_frames = if info.codec == "aac" { aac_priming(path, info.sample_rate) } else { 0 };
        let mut opened = Decoder {
            skip_frames,
            backend,
            info,
            interleaved: Vec::new(),
            skipped_packets: 0,
            warnings: Vec::new(),
            finished: false,
            path: path.to_path_buf(),
            ext,
            links,
            opus_rate,
        };
        if let Some(m) = mended {
            opened.note(m);
        }
        Ok(opened)
    }

    /// Moves on to the next link of a chained Ogg file; false when there is none.
    fn next_link(&mut self) -> bool {
        let Some((start, end)) = self.links.pop_front() else { return false };
        let opened = Source::window(&self.path, start, end)
            .map_err(FileError::from)
            .and_then(|source| open_stream(source, self.ext.as_deref(), self.opus_rate));
        match opened {
            Ok((format, decoder, track_id, _)) => {
                self.backend = Backend::Symphonia { format, decoder, track_id };
                true
            }
            Err(e) => {
                self.note(format!("a later stream of the chained Ogg file could not be read: {e}"));
                false
            }
        }
    }

    /// What is known about the audio. `sample_rate` is set from the first decoded packet
    /// when the container did not announce it.
    pub fn info(&self) -> &AudioInfo {
        &self.info
    }

    /// Packets that failed to decode and were skipped.
    pub fn skipped_packets(&self) -> u64 {
        self.skipped_packets
    }

    /// Problems met while decoding that did not stop it (a truncated tail, a skipped packet).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Replaces `out` with the next chunk of mono samples. Returns `Ok(false)` at the end.
    pub fn next_chunk(&mut self, out: &mut Vec<f32>) -> Result<bool, FileError> {
        out.clear();
        if self.finished {
            return Ok(false);
        }
        let (read, refused) = match &mut self.backend {
            Backend::Symphonia { .. } => return self.next_packet_chunk(out),
            Backend::Pcm(reader) => {
                // Mono integer samples are already what downmixing would give (and finite).
                let direct =
                    reader.layout().channels == 1 && reader.layout().encoding != pcm::Encoding::F32;
                let target = if direct { &mut *out } else { &mut self.interleaved };
                let read = reader.next_frames(target);
                if !direct && matches!(read, Ok(true)) {
                    downmix_into(&self.interleaved, usize::from(self.info.channels), out);
                }
                (read, 0)
            }
            Backend::Amr(reader) => (reader.next_frames(out), reader.take_skipped()),
        };
        if refused > 0 {
            self.skipped_packets += refused;
            self.note("frames the AMR decoder refused became silence".into());
        }
        match read {
            Ok(true) => return Ok(true),
            Ok(false) => {}
            Err(e) => self.note(format!("the stream ended early: {e}")),
        }
        self.finished = true;
        Ok(false)
    }

    /// [`Self::next_chunk`] from Symphonia: one decoded packet.
    fn next_packet_chunk(&mut self, out: &mut Vec<f32>) -> Result<bool, FileError> {
        while !self.finished {
            let Backend::Symphonia { format, decoder, track_id } = &mut self.backend else {
                break;
            };
            let packet = match format.next_packet() {
                Ok(Some(packet)) => packet,
                Ok(None) if self.next_link() => continue,
                Ok(None) => break,
                Err(SymError::DecodeError(msg)) => {
                    self.skipped_packets += 1;
                    self.note(format!("skipped malformed data: {msg}"));
                    continue;
                }
                Err(SymError::ResetRequired) if self.next_link() => continue,
                Err(SymError::ResetRequired) => {
                    self.note("the stream changes its track layout; decoding stopped there".into());
                    break;
                }
                Err(e) => {
                    // A truncated file ends in an I/O error: keep what was decoded.
                    self.note(format!("the stream ended early: {e}"));
                    break;
                }
            };
            if packet.track_id != *track_id {
                continue;
            }
            let buf = match decoder.decode(&packet) {
                Ok(buf) => buf,
                Err(SymError::DecodeError(msg)) | Err(SymError::Unsupported(msg)) => {
                    self.skipped_packets += 1;
                    if self.skipped_packets <= 3 {
                        self.note(format!("skipped a packet that failed to decode: {msg}"));
                    }
                    continue;
                }
                Err(SymError::IoError(e)) => {
                    self.skipped_packets += 1;
                    if self.skipped_packets <= 3 {
                        self.note(format!("skipped a packet that failed to decode: {e}"));
                    }
                    continue;
                }
                Err(e) => return Err(FileError::Decode(e.to_string())),
            };
            let frames = buf.frames();
            if frames == 0 {
                continue;
            }
            let rate = buf.spec().rate();
            let channels = buf.spec().channels().count().max(1);
            buf.copy_to_vec_interleaved(&mut self.interleaved);
            downmix_into(&self.interleaved, channels, out);
            if self.skip_frames > 0 {
                let n = self.skip_frames.min(out.len());
                out.drain(..n);
                self.skip_frames -= n;
                if out.is_empty() {
                    continue;
                }
            }
            if self.info.sample_rate == 0 {
                self.info.sample_rate = rate;
                if self.info.source_rate == 0 {
                    self.info.source_rate = rate;
                }
            } else if rate != self.info.sample_rate {
                self.note(format!(
                    "sample rate changes mid-stream ({} Hz to {rate} Hz); times after it are approximate",
                    self.info.sample_rate
                ));
            }
            if self.info.channels == 0 {
                self.info.channels = channels as u16;
            }
            return Ok(true);
        }
        self.finished = true;
        Ok(false)
    }

    fn note(&mut self, warning: String) {
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
    }
}

type Stream = (Box<dyn FormatReader>, Box<dyn AudioDecoder>, u32, AudioInfo);

/// The direct reader for a PCM WAV it handles ([`crate::detect::pcm`]), the AMR reader for
/// AMR files ([`crate::detect::amr`]), Symphonia for everything else.
fn open_backend(
    mut source: Source,
    ext: Option<&str>,
    opus_rate: Option<u32>,
) -> Result<(Backend, AudioInfo), FileError> {
    if let Some(layout) = pcm::probe(&mut source)? {
        let info = AudioInfo {
            sample_rate: layout.sample_rate,
            source_rate: layout.sample_rate,
            channels: layout.channels,
            codec: layout.encoding.codec_name().to_string(),
        };
        return Ok((Backend::Pcm(pcm::Reader::new(source, layout)?), info));
    }
    if let Some(variant) = amr::probe(&mut source)? {
        let reader = amr::Reader::new(source, variant).map_err(FileError::Decode)?;
        let info = amr_info(&reader);
        return Ok((Backend::Amr(reader), info));
    }
    source.seek(SeekFrom::Start(0))?;
    let (format, decoder, track_id, info) = open_stream(source, ext, opus_rate)?;
    Ok((Backend::Symphonia { format, decoder, track_id }, info))
}

/// The AMR reader over an MP4/3GP file's AMR sound track, if it has one.
fn amr_track(path: &Path) -> Result<Option<(Backend, AudioInfo)>, FileError> {
    let Some(track) = iso::sound_track(path) else { return Ok(None) };
    let Some(variant) = amr::variant_of_sample_entry(&track.code) else { return Ok(None) };
    if track.runs.is_empty() {
        return Err(FileError::Decode(
            "the AMR sound track's sample table could not be read".into(),
        ));
    }
    let reader =
        amr::Reader::new(iso::Runs::open(path, track.runs)?, variant).map_err(FileError::Decode)?;
    let info = amr_info(&reader);
    Ok(Some((Backend::Amr(reader), info)))
}

/// What the index says of an AMR stream.
fn amr_info(reader: &amr::Reader) -> AudioInfo {
    let rate = reader.sample_rate();
    AudioInfo {
        sample_rate: rate,
        source_rate: rate,
        channels: 1,
        codec: reader.codec_name().into(),
    }
}

/// Probes a byte source and prepares a decoder for its first audio track.
fn open_stream(
    source: Source,
    ext: Option<&str>,
    opus_rate: Option<u32>,
) -> Result<Stream, FileError> {
    let mss = MediaSourceStream::new(Box::new(source), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = ext {
        hint.with_extension(ext);
    }
    let format = symphonia::default::get_probe()
        .probe(&hint, mss, FormatOptions::default(), MetadataOptions::default())
        .map_err(|e| FileError::UnknownFormat(e.to_string()))?;
    let track = format.default_track(TrackType::Audio).ok_or(FileError::NoAudioTrack)?;
    let params =
        track.codec_params.as_ref().and_then(|p| p.audio()).ok_or(FileError::NoAudioTrack)?.clone();
    let registry = codecs();
    let codec = registry
        .get_audio_decoder(params.codec)
        .map(|d| d.codec.info.short_name.to_string())
        .unwrap_or_else(|| format!("{}", params.codec));
    let failed = |e: SymError| match e {
        SymError::Unsupported(_) => FileError::UnsupportedCodec(codec.clone()),
        other => FileError::Decode(other.to_string()),
    };
    let source_rate = params.sample_rate.unwrap_or(0);
    let at_rate = opus_rate
        .filter(|_| params.codec == CODEC_ID_OPUS)
        .and_then(|rate| Some((rate, opus::AtRate::new(&params, rate)?)));
    let (decoder, sample_rate): (Box<dyn AudioDecoder>, u32) = match at_rate {
        Some((rate, made)) => (Box::new(made.map_err(failed)?), rate),
        None => (
            registry
                .make_audio_decoder(&params, &AudioDecoderOptions::default())
                .map_err(failed)?,
            source_rate,
        ),
    };
    let info = AudioInfo {
        sample_rate,
        source_rate,
        channels: params.channels.as_ref().map_or(0, |c| c.count() as u16),
        codec,
    };
    let track_id = track.id;
    Ok((format, decoder, track_id, info))
}

/// Averages interleaved channels into `out` (appends). Non-finite samples become 0.
pub fn downmix_into(interleaved: &[f32], channels: usize, out: &mut Vec<f32>) {
    let channels = channels.max(1);
    out.reserve(interleaved.len() / channels);
    if channels == 1 {
        out.extend(interleaved.iter().map(|&s| if s.is_finite() { s } else { 0.0 }));
        return;
    }
    let scale = 1.0 / channels as f32;
    for frame in interleaved.chunks_exact(channels) {
        let sum: f32 = frame.iter().sum();
        out.push(if sum.is_finite() { sum * scale } else { 0.0 });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downmix_averages_channels_and_drops_non_finite() {
        let mut out = Vec::new();
        downmix_into(&[1.0, 0.0, 0.5, 0.5, f32::NAN, 1.0], 2, &mut out);
        assert_eq!(out, vec![0.5, 0.5, 0.0]);
    }

    fn all_samples(mut decoder: Decoder) -> Vec<f32> {
        let (mut chunk, mut all) = (Vec::new(), Vec::new());
        while decoder.next_chunk(&mut chunk).expect("decodes") {
            all.extend_from_slice(&chunk);
        }
        all
    }

    /// The same file through Symphonia, bypassing the direct PCM reader.
    fn through_symphonia(path: &Path) -> (Vec<f32>, AudioInfo) {
        let source = Source::open(path).expect("opens");
        let (format, decoder, track_id, info) =
            open_stream(source, Some("wav"), None).expect("probes");
        let backend = Backend::Symphonia { format, decoder, track_id };
        let mut opened = Decoder::open(path).expect("opens");
        (opened.backend, opened.info) = (backend, info.clone());
        (all_samples(opened), info)
    }

    /// Every layout the direct reader takes gives Symphonia's samples to the bit, and the
    /// same description of the audio.
    #[test]
    fn the_direct_wav_reader_matches_symphonia_to_the_bit() {
        let dir = tempfile::tempdir().expect("temp dir");
        let layouts = [
            (1u16, 16u16, hound::SampleFormat::Int, 48000u32),
            (2, 16, hound::SampleFormat::Int, 44100),
            (1, 24, hound::SampleFormat::Int, 48000),
            (3, 24, hound::SampleFormat::Int, 16000),
            (1, 32, hound::SampleFormat::Float, 16000),
            (2, 32, hound::SampleFormat::Float, 8000),
        ];
        for (n, &(channels, bits, sample_format, rate)) in layouts.iter().enumerate() {
            let path = dir.path().join(format!("{n}.wav"));
            let spec = hound::WavSpec {
                channels,
                sample_rate: rate,
                bits_per_sample: bits,
                sample_format,
            };
            let mut w = hound::WavWriter::create(&path, spec).expect("writes");
            let full = f64::from((1u32 << (bits - 1)) - 1);
            for i in 0..(rate as usize / 3) * usize::from(channels) {
                let x = ((i as f64 * 0.37).sin() * 0.9 + ((i * 7919) % 113) as f64 / 1130.0)
                    .clamp(-1.0, 1.0);
                let written = match (sample_format, bits) {
                    (hound::SampleFormat::Float, _) => w.write_sample(x as f32),
                    (_, 16) => w.write_sample((x * full) as i16),
                    _ => w.write_sample((x * full) as i32),
                };
                written.expect("writes");
            }
            w.finalize().expect("finalises");
            let direct = Decoder::open(&path).expect("opens");
            assert!(matches!(direct.backend, Backend::Pcm(_)), "layout {n} takes the direct path");
            let direct_info = direct.info().clone();
            let fast = all_samples(direct);
            let (slow, info) = through_symphonia(&path);
            assert_eq!(direct_info, info, "layout {n}");
            assert_eq!(fast.len(), slow.len(), "layout {n}");
            let differing =
                fast.iter().zip(&slow).filter(|(a, b)| a.to_bits() != b.to_bits()).count();
            assert_eq!(
                differing,
                0,
                "layout {n}: {differing} samples differ, first {:?}",
                fast.iter().zip(&slow).find(|(a, b)| a != b)
            );
        }
    }

    #[test]
    fn aac_priming_is_what_the_edit_list_skips() {
        let fixture =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/blast_at_3s_aac.m4a");
        // ffmpeg's encoder primes with 1024 frames and says so in the edit list.
        assert_eq!(iso::edit_start(&fixture), Some((1024, 44100)));
        let ours = all_samples(Decoder::open(&fixture).expect("opens"));
        let bytes = std::fs::read(&fixture).expect("fixture");
        // elst version 0: version and flags, entry count, then segment duration and media time.
        let media_time = bytes.windows(4).position(|w| w == b"elst").expect("elst") + 16;
        let dir = tempfile::tempdir().expect("temp dir");
        let with_start = |time: i32| {
            let mut patched = bytes.clone();
            patched[media_time..media_time + 4].copy_from_slice(&time.to_be_bytes());
            let path = dir.path().join(format!("{time}.m4a"));
            std::fs::write(&path, patched).expect("write");
            all_samples(Decoder::open(&path).expect("opens"))
        };
        // Apple's 2112 frames: 1088 more are dropped.
        assert!(with_start(2112) == ours[1088..], "Apple's priming");
        // An edit starting 10 s in trims real audio: not taken for priming.
        assert!(with_start(441_000) == ours, "a trim is kept");
    }
}
