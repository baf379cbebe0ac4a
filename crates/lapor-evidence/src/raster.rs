//! Images: check the header, decode, apply the EXIF orientation, re-encode from the pixels alone.
//!
//! # Memory
//!
//! Cleaning runs in a 128 MB Lambda, so the working memory is estimated from the header before
//! any pixel is decoded ([`working_memory`]) and refused over [`Limits::max_decode_memory`]. The
//! phases, with `D` the decoded buffer (width × height × bytes per pixel; 3 for an RGB JPEG):
//!
//! * **decode**: `D` plus decoder scratch. The `image` crate's JPEG decoder copies the whole
//!   file first (≤ 10 MiB); a *progressive* JPEG also keeps every DCT coefficient (2 bytes a
//!   sample: 3 bytes a pixel for 4:2:0, 6 for 4:4:4). The WebP decoder keeps the compressed
//!   frame and planes. The decoder (and the JPEG copy) is dropped before encoding.
//! * **orient**: JPEG needs nothing: the encoder reads 8×8 blocks through an oriented view
//!   ([`Oriented`]) of the decoded buffer. PNG and WebP use `DynamicImage::apply_orientation`,
//!   which for a quarter turn allocates a second `D` (rare: these formats seldom carry EXIF).
//! * **encode**: `D` plus the output (≈ the input size; a lossless WebP ≈ 2 bytes a pixel),
//!   plus encoder copies: the WebP encoder makes an RGBA copy (4 bytes a pixel), the PNG encoder
//!   byte-swaps 16-bit images into a second `D`.
//!
//! The realistic case, a 10 MB baseline phone JPEG of 24 MP (6000 × 4000), peaks at about
//! 72 MB + 10 MB ≈ 79 MiB, within the default 80 MiB budget; a 12 MP one at about 46 MiB. The
//! caller's copy of the upload and the runtime come on top: give the function more than 128 MB
//! if 24 MP photos must pass with headroom (more memory also means more CPU on Lambda).

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::metadata::Orientation;
use image::{
    ColorType, DynamicImage, GenericImageView, ImageBuffer, ImageDecoder, ImageEncoder, ImageError,
    ImageFormat, ImageReader, Pixel,
};

use crate::jpeg::{self, Frame};
use crate::{FileType, Limits, Rejection};

/// JPEG quality of the re-encoded file: visually lossless for evidence, one generation of loss.
pub(crate) const JPEG_QUALITY: u8 = 90;

pub(crate) struct Cleaned {
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// Cleans a JPEG, PNG or WebP (the caller has detected `kind` from the magic bytes).
pub(crate) fn clean(kind: FileType, bytes: &[u8], limits: &Limits) -> Result<Cleaned, Rejection> {
    let format = match kind {
        FileType::Jpeg => ImageFormat::Jpeg,
        FileType::Png => ImageFormat::Png,
        FileType::Webp => ImageFormat::WebP,
        FileType::Pdf => return Err(Rejection::NotAllowedType),
    };
    let refuse = |error: ImageError| match error {
        ImageError::Limits(_) => Rejection::TooLargeToDecode {
            max: limits.max_decode_memory,
        },
        _ => Rejection::Unreadable,
    };

    // The `image` JPEG decoder copies the whole file before it says how large the picture is,
    // and the memory estimate needs to know whether it is progressive: read the frame header by
    // hand first. This also refuses a JPEG cut short (no EOI), which the lenient decoder would
    // fill with grey.
    let frame = match kind {
        FileType::Jpeg => {
            let frame = jpeg::frame(bytes).ok_or(Rejection::Unreadable)?;
            check_pixels(u32::from(frame.width), u32::from(frame.height), limits)?;
            Some(frame)
        }
        _ => None,
    };

    // Until the dimensions are known only the allocation cap applies, so that an oversized
    // header is reported as `TooManyPixels` with its count rather than as a decoder error.
    let mut decoder_limits = image::Limits::default();
    decoder_limits.max_alloc = Some(limits.max_decode_memory);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(decoder_limits.clone());
    let mut decoder = reader.into_decoder().map_err(refuse)?;
    let (width, height) = decoder.dimensions();
    check_pixels(width, height, limits)?;
    // A side longer than `max_pixels` is over the pixel limit whatever the other side is.
    let side = u32::try_from(limits.max_pixels).unwrap_or(u32::MAX);
    decoder_limits.max_image_width = Some(side);
    decoder_limits.max_image_height = Some(side);
    decoder.set_limits(decoder_limits).map_err(refuse)?;

    // An orientation that cannot be read is treated as none: the picture may show sideways, but
    // nothing of the metadata survives either way.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let needed = working_memory(&Estimate {
        kind,
        width,
        height,
        color: decoder.color_type(),
        decoded: decoder.total_bytes(),
        orientation,
        input: bytes.len() as u64,
        frame: frame.as_ref(),
    });
    if needed > limits.max_decode_memory {
        return Err(Rejection::TooLargeToDecode {
            max: limits.max_decode_memory,
        });
    }

    // Consumes the decoder: its state (and the JPEG decoder's copy of the file) is freed here.
    let image = DynamicImage::from_decoder(decoder).map_err(refuse)?;
    let (width, height) = oriented_dimensions(width, height, orientation);
    // Encoding only fails on dimensions the formats cannot hold, which their decoders cannot
    // produce either; report it as unreadable rather than panic.
    let bytes = match kind {
        FileType::Jpeg => encode_jpeg(image, orientation),
        FileType::Png => encode_png(image, orientation),
        _ => encode_webp(image, orientation),
    }
    .map_err(refuse)?;
    Ok(Cleaned {
        bytes,
        width,
        height,
    })
}

fn check_pixels(width: u32, height: u32, limits: &Limits) -> Result<(), Rejection> {
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels {
        return Err(Rejection::TooManyPixels {
            pixels,
            max: limits.max_pixels,
        });
    }
    Ok(())
}

/// What the header says, for [`working_memory`].
pub(crate) struct Estimate<'a> {
    pub kind: FileType,
    pub width: u32,
    pub height: u32,
    pub color: ColorType,
    /// Bytes of the decoded buffer.
    pub decoded: u64,
    pub orientation: Orientation,
    /// Bytes of the upload.
    pub input: u64,
    /// The JPEG frame header, for a progressive decode's coefficients.
    pub frame: Option<&'a Frame>,
}

/// Rough peak bytes of cleaning one image: the largest of the decode, orient/convert and encode
/// phases described in the module documentation. Not counted: the caller's copy of the upload,
/// allocator overhead, `Vec` growth slack.
pub(crate) fn working_memory(estimate: &Estimate<'_>) -> u64 {
    let pixels = u64::from(estimate.width) * u64::from(estimate.height);
    let decoded = estimate.decoded;
    let quarter_turn = swaps_sides(estimate.orientation);
    let (decode_scratch, transform_copy, encode_scratch, output) = match estimate.kind {
        FileType::Jpeg => {
            let coefficients = estimate
                .frame
                .filter(|frame| frame.progressive)
                .map_or(0, Frame::coefficient_bytes);
            let converts = !matches!(estimate.color, ColorType::L8 | ColorType::Rgb8);
            let conversion = if converts { pixels * 3 } else { 0 };
            (estimate.input + coefficients, conversion, 0, estimate.input)
        }
        FileType::Png => {
            let rotation = if quarter_turn { decoded } else { 0 };
            let sixteen_bit = estimate.color.bytes_per_pixel() > estimate.color.channel_count();
            let swap = if sixteen_bit { decoded } else { 0 };
            (0, rotation, swap, estimate.input)
        }
        // (A PDF never gets here.)
        FileType::Webp | FileType::Pdf => {
            let rotation = if quarter_turn { decoded } else { 0 };
            (
                estimate.input + pixels * 4,
                rotation,
                pixels * 4,
                (pixels * 2).max(estimate.input),
            )
        }
    };
    let decode = decoded + decode_scratch;
    let transform = decoded + transform_copy;
    let encode = decoded + encode_scratch + output;
    decode.max(transform).max(encode)
}

/// Whether the orientation is a quarter turn (width and height trade places).
fn swaps_sides(orientation: Orientation) -> bool {
    matches!(
        orientation,
        Orientation::Rotate90
            | Orientation::Rotate270
            | Orientation::Rotate90FlipH
            | Orientation::Rotate270FlipH
    )
}

fn oriented_dimensions(width: u32, height: u32, orientation: Orientation) -> (u32, u32) {
    if swaps_sides(orientation) {
        (height, width)
    } else {
        (width, height)
    }
}

/// The image as it should be displayed, computed per pixel from the stored one: lets the JPEG
/// encoder (which reads 8×8 blocks through `GenericImageView`) write a rotated picture without
/// a rotated copy in memory.
pub(crate) struct Oriented<'a, P: Pixel> {
    image: &'a ImageBuffer<P, Vec<P::Subpixel>>,
    orientation: Orientation,
}

impl<'a, P: Pixel> Oriented<'a, P> {
    pub(crate) fn new(
        image: &'a ImageBuffer<P, Vec<P::Subpixel>>,
        orientation: Orientation,
    ) -> Self {
        Self { image, orientation }
    }

    /// The stored pixel shown at display position (x, y). Matches `DynamicImage::apply_orientation`.
    fn source(&self, x: u32, y: u32) -> (u32, u32) {
        let (w, h) = self.image.dimensions();
        match self.orientation {
            Orientation::NoTransforms => (x, y),
            Orientation::Rotate90 => (y, h - 1 - x),
            Orientation::Rotate180 => (w - 1 - x, h - 1 - y),
            Orientation::Rotate270 => (w - 1 - y, x),
            Orientation::FlipHorizontal => (w - 1 - x, y),
            Orientation::FlipVertical => (x, h - 1 - y),
            Orientation::Rotate90FlipH => (y, x),
            Orientation::Rotate270FlipH => (w - 1 - y, h - 1 - x),
        }
    }
}

impl<P: Pixel> GenericImageView for Oriented<'_, P> {
    type Pixel = P;

    fn dimensions(&self) -> (u32, u32) {
        let (w, h) = self.image.dimensions();
        oriented_dimensions(w, h, self.orientation)
    }

    fn get_pixel(&self, x: u32, y: u32) -> P {
        let (sx, sy) = self.source(x, y);
        *self.image.get_pixel(sx, sy)
    }
}

fn encode_jpeg(image: DynamicImage, orientation: Orientation) -> image::ImageResult<Vec<u8>> {
    let mut out = Vec::new();
    let mut encoder = JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY);
    match image {
        DynamicImage::ImageLuma8(buffer) => {
            encoder.encode_image(&Oriented::new(&buffer, orientation))?
        }
        DynamicImage::ImageRgb8(buffer) => {
            encoder.encode_image(&Oriented::new(&buffer, orientation))?
        }
        // The JPEG decoder yields L8 or RGB8 (CMYK is converted); anything else is converted.
        other => {
            let buffer = other.into_rgb8();
            encoder.encode_image(&Oriented::new(&buffer, orientation))?
        }
    }
    Ok(out)
}

fn encode_png(mut image: DynamicImage, orientation: Orientation) -> image::ImageResult<Vec<u8>> {
    image.apply_orientation(orientation);
    let mut out = Vec::new();
    PngEncoder::new(&mut out).write_image(
        image.as_bytes(),
        image.width(),
        image.height(),
        image.color().into(),
    )?;
    Ok(out)
}

/// Lossless: the `image` crate's WebP encoder has no lossy mode.
fn encode_webp(image: DynamicImage, orientation: Orientation) -> image::ImageResult<Vec<u8>> {
    let mut image = match image.color() {
        ColorType::L8 | ColorType::La8 | ColorType::Rgb8 | ColorType::Rgba8 => image,
        _ => DynamicImage::ImageRgba8(image.into_rgba8()),
    };
    image.apply_orientation(orientation);
    let mut out = Vec::new();
    WebPEncoder::new_lossless(&mut out).write_image(
        image.as_bytes(),
        image.width(),
        image.height(),
        image.color().into(),
    )?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    const ALL: [Orientation; 8] = [
        Orientation::NoTransforms,
        Orientation::Rotate90,
        Orientation::Rotate180,
        Orientation::Rotate270,
        Orientation::FlipHorizontal,
        Orientation::FlipVertical,
        Orientation::Rotate90FlipH,
        Orientation::Rotate270FlipH,
    ];

    #[test]
    fn oriented_view_matches_apply_orientation_for_every_orientation() {
        let stored = RgbImage::from_fn(5, 3, |x, y| Rgb([x as u8, y as u8, (x * 10 + y) as u8]));
        for orientation in ALL {
            let mut expected = DynamicImage::ImageRgb8(stored.clone());
            expected.apply_orientation(orientation);
            let expected = expected.into_rgb8();
            let view = Oriented::new(&stored, orientation);
            assert_eq!(view.dimensions(), expected.dimensions(), "{orientation:?}");
            let (w, h) = view.dimensions();
            for y in 0..h {
                for x in 0..w {
                    assert_eq!(
                        view.get_pixel(x, y),
                        *expected.get_pixel(x, y),
                        "{orientation:?} at ({x}, {y})"
                    );
                }
            }
        }
    }

    fn jpeg_estimate(frame: &Frame, orientation: Orientation) -> u64 {
        working_memory(&Estimate {
            kind: FileType::Jpeg,
            width: u32::from(frame.width),
            height: u32::from(frame.height),
            color: ColorType::Rgb8,
            decoded: u64::from(frame.width) * u64::from(frame.height) * 3,
            orientation,
            input: 10 * 1024 * 1024,
            frame: Some(frame),
        })
    }

    #[test]
    fn a_24_megapixel_baseline_jpeg_fits_the_default_budget_even_rotated() {
        let budget = Limits::default().max_decode_memory;
        let baseline = Frame {
            width: 6000,
            height: 4000,
            progressive: false,
            sampling: vec![(2, 2), (1, 1), (1, 1)],
        };
        for orientation in ALL {
            let needed = jpeg_estimate(&baseline, orientation);
            assert!(needed <= budget, "{needed} > {budget}");
            assert!(needed >= 72_000_000);
        }
        // The same picture progressive keeps 72 MB of coefficients as well: refused.
        let progressive = Frame {
            progressive: true,
            ..baseline
        };
        assert!(jpeg_estimate(&progressive, Orientation::NoTransforms) > budget);
    }

    #[test]
    fn quarter_turns_and_16_bit_cost_a_second_buffer_for_png() {
        let estimate = |color: ColorType, orientation| {
            working_memory(&Estimate {
                kind: FileType::Png,
                width: 1000,
                height: 1000,
                color,
                decoded: 1_000_000 * u64::from(color.bytes_per_pixel()),
                orientation,
                input: 1000,
                frame: None,
            })
        };
        assert_eq!(
            estimate(ColorType::Rgba8, Orientation::NoTransforms),
            4_001_000
        );
        assert_eq!(estimate(ColorType::Rgba8, Orientation::Rotate90), 8_000_000);
        assert_eq!(
            estimate(ColorType::Rgba8, Orientation::Rotate180),
            4_001_000
        );
        assert_eq!(
            estimate(ColorType::Rgba16, Orientation::NoTransforms),
            16_001_000
        );
    }
}
