//! Spectrogram images for the report: 0-8 kHz, log magnitude, viridis colours, PNG.
//!
//! The audio is resampled to 16 kHz (the same band-limited resampler as the detector),
//! cut into 32 ms Hann frames every 16 ms (512-point real FFT), and each bin's magnitude
//! is drawn in dB over an 80 dB range below the image's loudest bin, in 15 steps of
//! 5.3 dB: a 4-bit palette image of about 30 kB for 8 s, light enough for reports with
//! thousands of detections. Colours follow
//! matplotlib's perceptually uniform *viridis* (van der Walt & Smith, 2015), through a
//! degree-6 polynomial fit of it (Matt Zucker, 2016, public domain). A dashed white line
//! marks the detection's onset, and ticks along the bottom mark whole seconds from it.

use realfft::RealFftPlanner;

use crate::detect::resample::Resampler;
use crate::error::Error;

/// Sample rate the image is computed at (0-8 kHz shown).
pub const RATE: u32 = 16_000;
const FRAME: usize = 512;
const HOP: usize = 256;
/// Rows: bins 1..=256 (the DC bin is left out).
pub const HEIGHT: usize = FRAME / 2;
const RANGE_DB: f32 = 80.0;

/// Renders `samples` (mono at `rate`) as a PNG; `marker_s` is the onset, in seconds from
/// the first sample. Returns the PNG bytes and the image width.
pub fn render_png(samples: &[f32], rate: u32, marker_s: f64) -> Result<(Vec<u8>, usize), Error> {
    let mut resampler = Resampler::between(rate, RATE);
    let mut audio = Vec::with_capacity(samples.len() * RATE as usize / rate.max(1) as usize + 64);
    resampler.process(samples, &mut audio);
    resampler.finish(&mut audio);
    let columns = power_columns(&audio);
    let width = columns.len().max(1);
    let top = columns.iter().flatten().fold(f32::MIN, |m, &v| m.max(v));
    let mut pixels = vec![0u8; width * HEIGHT];
    for (x, col) in columns.iter().enumerate() {
        for (bin, &db) in col.iter().enumerate() {
            let t = ((db - (top - RANGE_DB)) / RANGE_DB).clamp(0.0, 1.0);
            let y = HEIGHT - 1 - bin;
            pixels[y * width + x] = (t * (LEVELS - 1) as f32).round() as u8;
        }
    }
    let column_of = |s: f64| (s * f64::from(RATE) / HOP as f64).round() as i64;
    let marker = column_of(marker_s);
    if (0..width as i64).contains(&marker) {
        for y in (0..HEIGHT).filter(|y| (y / 6) % 2 == 0) {
            pixels[y * width + marker as usize] = WHITE;
        }
    }
    for second in -20i64..60 {
        let x = column_of(marker_s + second as f64);
        if (0..width as i64).contains(&x) {
            for y in HEIGHT - 8..HEIGHT {
                pixels[y * width + x as usize] = WHITE;
            }
        }
    }
    Ok((encode_png(&pixels, width, HEIGHT)?, width))
}

/// Colour steps of the scale (palette entries 0..LEVELS); entry [`WHITE`] marks times.
const LEVELS: usize = 15;
const WHITE: u8 = LEVELS as u8;

fn power_columns(audio: &[f32]) -> Vec<[f32; HEIGHT]> {
    let fft = RealFftPlanner::<f32>::new().plan_fft_forward(FRAME);
    let window: Vec<f32> = (0..FRAME)
        .map(|n| 0.5 - 0.5 * (std::f32::consts::TAU * n as f32 / FRAME as f32).cos())
        .collect();
    let (mut input, mut spectrum, mut scratch) =
        (fft.make_input_vec(), fft.make_output_vec(), fft.make_scratch_vec());
    let mut columns = Vec::new();
    let mut start = 0;
    while start + FRAME <= audio.len() {
        for ((x, &s), &w) in input.iter_mut().zip(&audio[start..start + FRAME]).zip(&window) {
            *x = s * w;
        }
        fft.process_with_scratch(&mut input, &mut spectrum, &mut scratch)
            .expect("the buffers have the lengths the plan asked for");
        let mut col = [0.0f32; HEIGHT];
        for (c, bin) in col.iter_mut().zip(&spectrum[1..]) {
            *c = 10.0 * (bin.norm_sqr() + 1e-12).log10();
        }
        columns.push(col);
        start += HOP;
    }
    columns
}

/// viridis at `t` in 0..1 (polynomial fit, see the module doc).
pub fn viridis(t: f32) -> [u8; 3] {
    const C: [[f32; 3]; 7] = [
        [0.277_727_33, 0.005_407_344_5, 0.334_099_8],
        [0.105_093_04, 1.404_613_5, 1.384_590_2],
        [-0.330_861_83, 0.214_847_56, 0.095_095_16],
        [-4.634_230_5, -5.799_101, -19.332_441],
        [6.228_27, 14.179_933, 56.690_55],
        [4.776_385, -13.745_145, -65.353_03],
        [-5.435_456, 4.645_852_6, 26.312_435],
    ];
    let mut out = [0u8; 3];
    for (k, o) in out.iter_mut().enumerate() {
        let v = C.iter().rev().fold(0.0f32, |acc, c| acc * t + c[k]);
        *o = (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    }
    out
}

/// A 4-bit palette PNG of `pixels` (one palette index per pixel, row by row).
fn encode_png(pixels: &[u8], width: usize, height: usize) -> Result<Vec<u8>, Error> {
    let mut palette: Vec<u8> =
        (0..LEVELS).flat_map(|i| viridis(i as f32 / (LEVELS - 1) as f32)).collect();
    palette.extend([255, 255, 255]);
    let packed: Vec<u8> = pixels
        .chunks(width.max(1))
        .flat_map(|row| row.chunks(2).map(|p| (p[0] << 4) | p.get(1).copied().unwrap_or(0)))
        .collect();
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width as u32, height as u32);
    encoder.set_color(png::ColorType::Indexed);
    encoder.set_depth(png::BitDepth::Four);
    encoder.set_palette(palette);
    encoder.set_compression(png::Compression::High);
    let failed =
        |e: png::EncodingError| Error::Serialise { what: "a spectrogram", reason: e.to_string() };
    let mut writer = encoder.write_header().map_err(failed)?;
    writer.write_image_data(&packed).map_err(failed)?;
    writer.finish().map_err(failed)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viridis_runs_from_dark_purple_to_yellow() {
        let (lo, hi) = (viridis(0.0), viridis(1.0));
        assert!(lo[2] > lo[1] && lo[0] < 100, "{lo:?}");
        assert!(hi[0] > 200 && hi[1] > 200 && hi[2] < 80, "{hi:?}");
    }

    #[test]
    fn a_tone_draws_a_bright_row_at_its_frequency() {
        let rate = 48_000;
        let tone: Vec<f32> = (0..rate * 2)
            .map(|i| 0.5 * (std::f32::consts::TAU * 2000.0 * i as f32 / rate as f32).sin())
            .collect();
        let (png_bytes, width) = render_png(&tone, rate, 1.0).expect("encodes");
        let mut decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        decoder.set_transformations(png::Transformations::EXPAND);
        let mut reader = decoder.read_info().expect("a PNG");
        let mut buf = vec![0; reader.output_buffer_size().expect("size")];
        let info = reader.next_frame(&mut buf).expect("frame");
        assert_eq!((info.width as usize, info.height as usize), (width, HEIGHT));
        // 2 kHz is bin 64 of 256 (31.25 Hz per bin): row 256 - 64 = 192.
        let brightness = |y: usize| {
            let p = &buf[(y * width + width / 3) * 3..][..3];
            u32::from(p[0]) + u32::from(p[1])
        };
        assert!(brightness(HEIGHT - 64) > brightness(HEIGHT - 150) + 200);
    }
}
