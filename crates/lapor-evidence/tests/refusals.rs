//! What is refused, in which order, and what the reporter is told; type detection.

mod common;

use common::*;
use lapor_evidence::{clean, detect, FileType, Limits, Rejection};

#[test]
fn html_is_not_allowed_whatever_it_is_called() {
    // The API never sees a name or a declared type; a `.jpg` that is HTML is HTML.
    for upload in [
        b"<!doctype html><html><script>alert(1)</script></html>".as_slice(),
        b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
        b"GIF89a\x01\x00\x01\x00",
        b"PK\x03\x04zip",
        b"RIFF\x04\x00\x00\x00WAVE",
        b"  %PDF-1.7 with junk before the header",
    ] {
        assert_eq!(
            clean(upload, &Limits::default()),
            Err(Rejection::NotAllowedType),
            "{}",
            String::from_utf8_lossy(upload)
        );
    }
}

#[test]
fn empty_upload_is_refused() {
    assert_eq!(clean(&[], &Limits::default()), Err(Rejection::Empty));
}

#[test]
fn size_is_checked_before_anything_else() {
    let limits = Limits::default();
    let max = limits.max_bytes;
    let upload = vec![0u8; max as usize + 1];
    assert_eq!(
        clean(&upload, &limits),
        Err(Rejection::TooLarge {
            bytes: max + 1,
            max
        })
    );
    // A pixel bomb and HTML over the size limit are refused for their size, not looked into.
    let small = Limits {
        max_bytes: 16,
        ..Limits::default()
    };
    let bomb = png_bomb(50_000, 50_000);
    assert_eq!(
        clean(&bomb, &small),
        Err(Rejection::TooLarge {
            bytes: bomb.len() as u64,
            max: 16
        })
    );
    assert!(matches!(
        clean(b"<!doctype html><html></html>", &small),
        Err(Rejection::TooLarge { .. })
    ));
    // Exactly at the limit is allowed.
    let upload = jpeg_with_metadata();
    let exact = Limits {
        max_bytes: upload.len() as u64,
        ..Limits::default()
    };
    assert!(clean(&upload, &exact).is_ok());
}

#[test]
fn png_claiming_50000_by_50000_pixels_is_refused_from_its_header() {
    // Refused from the header, before any decoding: its IDAT holds 16 bytes, so a decoder would
    // have found it unreadable (as the 100 × 100 one below is); the reason says the header's
    // pixel count was the refusal. That nothing big is allocated for it is measured in memory.rs.
    let bomb = png_bomb(50_000, 50_000);
    assert!(bomb.len() < 100);
    assert_eq!(
        clean(&bomb, &Limits::default()),
        Err(Rejection::TooManyPixels {
            pixels: 2_500_000_000,
            max: 40_000_000
        })
    );
    // Just over and just under a custom limit.
    let limits = Limits {
        max_pixels: 100 * 100,
        ..Limits::default()
    };
    assert!(matches!(
        clean(&png_bomb(101, 100), &limits),
        Err(Rejection::TooManyPixels { pixels: 10_100, .. })
    ));
    // 100 × 100 passes the pixel check; its IDAT is far too short for that many rows.
    assert_eq!(
        clean(&png_bomb(100, 100), &limits),
        Err(Rejection::Unreadable)
    );
}

#[test]
fn jpeg_over_the_pixel_limit_is_refused_from_its_header() {
    let upload = jpeg_with_metadata();
    let limits = Limits {
        max_pixels: 40 * 20 - 1,
        ..Limits::default()
    };
    assert_eq!(
        clean(&upload, &limits),
        Err(Rejection::TooManyPixels {
            pixels: 800,
            max: 799
        })
    );
}

#[test]
fn memory_budget_refuses_what_would_not_fit() {
    let limits = Limits {
        max_decode_memory: 1024,
        ..Limits::default()
    };
    for upload in [
        jpeg_with_metadata(),
        png_with_metadata(),
        webp_with_metadata(),
    ] {
        assert_eq!(
            clean(&upload, &limits),
            Err(Rejection::TooLargeToDecode { max: 1024 })
        );
    }
}

#[test]
fn truncated_or_corrupt_images_are_unreadable() {
    let jpeg = jpeg_with_metadata();
    let png = png_with_metadata();
    let webp = webp_with_metadata();
    let mut corrupt_png = png.clone();
    let idat = corrupt_png.windows(4).position(|w| w == b"IDAT").unwrap();
    corrupt_png[idat + 6] ^= 0xFF; // CRC no longer matches
    for (what, upload) in [
        ("jpeg cut in half", jpeg[..jpeg.len() / 2].to_vec()),
        ("jpeg without EOI", jpeg[..jpeg.len() - 2].to_vec()),
        ("jpeg headers only", jpeg[..40].to_vec()),
        ("jpeg magic only", vec![0xFF, 0xD8, 0xFF]),
        ("png cut in half", png[..png.len() / 2].to_vec()),
        ("png with a bad CRC", corrupt_png),
        ("png signature only", b"\x89PNG\r\n\x1a\n".to_vec()),
        ("webp cut in half", webp[..webp.len() / 2].to_vec()),
        ("webp header only", b"RIFF\x04\x00\x00\x00WEBP".to_vec()),
    ] {
        assert_eq!(
            clean(&upload, &Limits::default()),
            Err(Rejection::Unreadable),
            "{what}"
        );
    }
}

#[test]
fn every_rejection_has_a_code_and_a_message_in_each_language() {
    let all = [
        Rejection::Empty,
        Rejection::TooLarge {
            bytes: 12 * 1024 * 1024,
            max: 10 * 1024 * 1024,
        },
        Rejection::NotAllowedType,
        Rejection::TooManyPixels {
            pixels: 2_500_000_000,
            max: 40_000_000,
        },
        Rejection::TooLargeToDecode {
            max: 80 * 1024 * 1024,
        },
        Rejection::Unreadable,
        Rejection::Encrypted,
    ];
    let mut codes = Vec::new();
    for rejection in &all {
        let (id, en) = (rejection.message_id(), rejection.message_en());
        assert!(
            !id.trim().is_empty() && !en.trim().is_empty(),
            "{rejection:?}"
        );
        assert_ne!(id, en, "{rejection:?}");
        assert!(!rejection.to_string().is_empty());
        assert!(rejection
            .code()
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '_'));
        codes.push(rejection.code());
    }
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), all.len(), "codes are distinct");

    let too_large = &all[1];
    assert!(too_large.message_id().contains("12 MB"));
    assert!(too_large.message_id().contains("10 MB"));
    assert!(too_large.message_en().contains("maximum is 10 MB"));
    let pixels = &all[3];
    assert!(pixels.message_id().contains("2500 megapiksel"));
    assert!(pixels.message_en().contains("40 megapixels"));
    assert!(Rejection::NotAllowedType
        .message_id()
        .contains("tidak diizinkan"));
}

#[test]
fn detect_reads_magic_bytes_only() {
    let png = png_with_metadata();
    assert_eq!(detect(&jpeg_with_metadata()), Some(FileType::Jpeg));
    assert_eq!(detect(&png), Some(FileType::Png));
    assert_eq!(detect(&webp_with_metadata()), Some(FileType::Webp));
    assert_eq!(detect(&pdf_with_metadata()), Some(FileType::Pdf));
    // "bukti.jpg" that is a PNG inside is a PNG, and is cleaned as one.
    let named_jpg = png.clone();
    assert_eq!(detect(&named_jpg), Some(FileType::Png));
    assert_eq!(
        clean(&named_jpg, &Limits::default()).unwrap().kind,
        FileType::Png
    );

    assert_eq!(detect(b"<!doctype html>"), None);
    assert_eq!(detect(b""), None);
    assert_eq!(detect(&[0xFF, 0xD8]), None);
    assert_eq!(detect(b"\x89PNG\r\n"), None);
    assert_eq!(detect(b"RIFF\x00\x00\x00\x00WEB"), None);
    assert_eq!(detect(b"RIFF\x00\x00\x00\x00AVI "), None);
    assert_eq!(detect(b"%PDF"), None);
}
