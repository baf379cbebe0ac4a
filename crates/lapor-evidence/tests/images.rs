//! JPEG, PNG and WebP uploads come back without any metadata, upright, and still the same picture.

mod common;

use std::io::Cursor;

use common::*;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};
use lapor_evidence::{clean, FileType, Limits};
use sha2::{Digest, Sha256};

fn decoder(bytes: &[u8], format: ImageFormat) -> impl ImageDecoder + '_ {
    ImageReader::with_format(Cursor::new(bytes), format)
        .into_decoder()
        .unwrap()
}

fn decode(bytes: &[u8], format: ImageFormat) -> DynamicImage {
    DynamicImage::from_decoder(decoder(bytes, format)).unwrap()
}

/// Nothing that names the reporter, the device or the place survives.
fn assert_no_leaks(bytes: &[u8]) {
    for needle in [
        b"Exif\0\0".as_slice(),
        SERIAL.as_bytes(),
        NAME.as_bytes(),
        b"http://ns.adobe.com/xap",
        b"xpacket",
        COMMENT.as_bytes(),
    ] {
        assert!(
            !contains(bytes, needle),
            "output still contains {:?}",
            String::from_utf8_lossy(needle)
        );
    }
}

/// The fixture really carries what the test says it removes.
fn assert_fixture_leaks(bytes: &[u8], format: ImageFormat, orientation: Orientation) {
    for needle in [SERIAL.as_bytes(), NAME.as_bytes()] {
        assert!(contains(bytes, needle));
    }
    let mut decoder = decoder(bytes, format);
    let exif = decoder.exif_metadata().unwrap().expect("fixture has EXIF");
    assert!(contains(&exif, SERIAL.as_bytes()));
    assert_eq!(decoder.orientation().unwrap(), orientation);
}

fn is_close(pixel: [u8; 3], expected: [u8; 3]) -> bool {
    pixel
        .iter()
        .zip(expected)
        .all(|(&a, b)| a.abs_diff(b) <= 48)
}

#[test]
fn jpeg_loses_exif_gps_serial_xmp_and_comment_and_is_turned_upright() {
    let upload = jpeg_with_metadata();
    assert_fixture_leaks(&upload, ImageFormat::Jpeg, Orientation::Rotate90);
    assert!(contains(&upload, XMP_JPEG_HEADER));
    assert!(contains(&upload, COMMENT.as_bytes()));

    let cleaned = clean(&upload, &Limits::default()).unwrap();
    assert_eq!(cleaned.kind, FileType::Jpeg);
    assert_no_leaks(&cleaned.bytes);
    // Only the JFIF header the encoder writes; no APP1 (EXIF/XMP), no COM.
    assert_eq!(
        jpeg_header_markers(&cleaned.bytes)
            .into_iter()
            .filter(|m| (0xE0..=0xEF).contains(m) || *m == 0xFE)
            .collect::<Vec<_>>(),
        vec![0xE0]
    );

    let mut decoder = decoder(&cleaned.bytes, ImageFormat::Jpeg);
    assert_eq!(decoder.orientation().unwrap(), Orientation::NoTransforms);
    assert_eq!(decoder.exif_metadata().unwrap(), None);
    assert_eq!(decoder.xmp_metadata().unwrap(), None);

    // 40 × 20 turned a quarter clockwise: 20 × 40, the red top-left corner now top-right.
    let image = decode(&cleaned.bytes, ImageFormat::Jpeg).into_rgb8();
    assert_eq!(image.dimensions(), (20, 40));
    assert_eq!((cleaned.width, cleaned.height), (Some(20), Some(40)));
    assert!(
        is_close(image.get_pixel(17, 2).0, RED),
        "{:?}",
        image.get_pixel(17, 2)
    );
    assert!(
        is_close(image.get_pixel(2, 2).0, BLUE),
        "{:?}",
        image.get_pixel(2, 2)
    );
    assert!(is_close(image.get_pixel(17, 37).0, BLUE));
    assert!(is_close(image.get_pixel(2, 37).0, BLUE));
}

#[test]
fn jpeg_without_orientation_keeps_its_shape() {
    let upload = add_jpeg_metadata(&encode_jpeg(&marked_image()), 1);
    let cleaned = clean(&upload, &Limits::default()).unwrap();
    assert_no_leaks(&cleaned.bytes);
    let image = decode(&cleaned.bytes, ImageFormat::Jpeg).into_rgb8();
    assert_eq!(image.dimensions(), (40, 20));
    assert!(is_close(image.get_pixel(2, 2).0, RED));
    assert!(is_close(image.get_pixel(37, 2).0, BLUE));
}

#[test]
fn png_loses_text_and_exif_chunks_and_keeps_every_pixel() {
    let upload = png_with_metadata();
    assert_fixture_leaks(&upload, ImageFormat::Png, Orientation::NoTransforms);
    let types = png_chunk_types(&upload);
    for kind in ["tEXt", "zTXt", "iTXt", "eXIf"] {
        assert!(types.iter().any(|t| t == kind), "fixture lacks {kind}");
    }
    assert_eq!(decode(&upload, ImageFormat::Png).into_rgba8(), png_source());

    let cleaned = clean(&upload, &Limits::default()).unwrap();
    assert_eq!(cleaned.kind, FileType::Png);
    assert_no_leaks(&cleaned.bytes);
    let types = png_chunk_types(&cleaned.bytes);
    assert_eq!(types.first().map(String::as_str), Some("IHDR"));
    assert_eq!(types.last().map(String::as_str), Some("IEND"));
    assert!(
        types[1..types.len() - 1].iter().all(|t| t == "IDAT"),
        "{types:?}"
    );
    assert_eq!(
        decode(&cleaned.bytes, ImageFormat::Png).into_rgba8(),
        png_source()
    );
    assert_eq!((cleaned.width, cleaned.height), (Some(7), Some(5)));
}

#[test]
fn webp_loses_exif_and_xmp_chunks_and_is_turned_upright_losslessly() {
    let upload = webp_with_metadata();
    assert_eq!(webp_chunks(&upload), ["VP8X", "VP8L", "EXIF", "XMP "]);
    assert_fixture_leaks(&upload, ImageFormat::WebP, Orientation::Rotate90);
    assert_eq!(
        decode(&upload, ImageFormat::WebP).into_rgb8(),
        marked_image()
    );

    let cleaned = clean(&upload, &Limits::default()).unwrap();
    assert_eq!(cleaned.kind, FileType::Webp);
    assert_no_leaks(&cleaned.bytes);
    assert_eq!(webp_chunks(&cleaned.bytes), ["VP8L"]);
    let mut decoder = decoder(&cleaned.bytes, ImageFormat::WebP);
    assert_eq!(decoder.exif_metadata().unwrap(), None);
    assert_eq!(decoder.orientation().unwrap(), Orientation::NoTransforms);

    let expected = DynamicImage::ImageRgb8(marked_image())
        .rotate90()
        .into_rgb8();
    assert_eq!(
        decode(&cleaned.bytes, ImageFormat::WebP).into_rgb8(),
        expected
    );
    assert_eq!((cleaned.width, cleaned.height), (Some(20), Some(40)));
}

#[test]
fn sha256_is_of_the_cleaned_bytes_and_cleaning_is_deterministic() {
    let upload = jpeg_with_metadata();
    let first = clean(&upload, &Limits::default()).unwrap();
    assert_eq!(first.sha256, hex::encode(Sha256::digest(&first.bytes)));
    assert_ne!(first.sha256, hex::encode(Sha256::digest(&upload)));
    assert_eq!(first.sha256.len(), 64);
    assert!(first
        .sha256
        .chars()
        .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)));
    assert_eq!(clean(&upload, &Limits::default()).unwrap(), first);
}

#[test]
fn a_cleaned_file_cleans_again_to_the_same_kind_and_size() {
    for upload in [
        jpeg_with_metadata(),
        png_with_metadata(),
        webp_with_metadata(),
    ] {
        let once = clean(&upload, &Limits::default()).unwrap();
        let twice = clean(&once.bytes, &Limits::default()).unwrap();
        assert_eq!(twice.kind, once.kind);
        assert_eq!((twice.width, twice.height), (once.width, once.height));
    }
}
