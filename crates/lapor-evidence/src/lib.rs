//! Evidence uploads: check them, and clean them so that no file can unmask the person who sent it.
//!
//! [`clean`] takes the bytes a reporter uploaded and either refuses them with a [`Rejection`]
//! (which carries a message for the reporter in Bahasa Indonesia and in English) or returns a
//! [`Clean`] copy that is safe to store and to show to officers. The crate is pure: no AWS, no
//! async, no I/O.
//!
//! # Choices
//!
//! * **The type comes from the bytes only** ([`detect`]): a file name or a declared
//!   `Content-Type` is whatever the sender's client says. JPEG, PNG, WebP and PDF are allowed;
//!   anything else (HTML named `.jpg`, SVG, ZIP, …) is [`Rejection::NotAllowedType`].
//! * **Images are decoded and re-encoded**, never edited segment by segment. A new file written
//!   from the pixels alone cannot carry EXIF (GPS position, camera and lens serial numbers, owner
//!   name), XMP (creator, editing history), IPTC, ICC profiles, JPEG comments, PNG
//!   `tEXt`/`iTXt`/`zTXt`/`eXIf` chunks, embedded thumbnails (which may still show what a crop
//!   removed), maker notes, or data appended after the end of the image (motion-photo videos),
//!   whatever container trick was used to hide them. Editing segments only removes what the editor
//!   knows about. The price is one generation of JPEG loss (quality 90) and the loss of the colour
//!   profile (wide-gamut photos look slightly less saturated).
//! * **The EXIF orientation is applied to the pixels** before the metadata goes, so a phone
//!   picture taken upright still shows upright; the output has no orientation tag.
//! * **WebP comes out as lossless WebP**: the `image` crate's WebP encoder is lossless only. A
//!   lossy WebP photo therefore grows (often several times) when cleaned.
//! * **Dimensions are read before any pixel is decoded**, and an image whose width × height is
//!   over [`Limits::max_pixels`] is refused: a few hundred bytes of PNG can claim 50000 × 50000
//!   pixels (a decompression bomb). The decoder is also given `image::Limits` (width, height and
//!   allocation caps) so that a lying header cannot allocate without bound.
//! * **Memory**: this runs in a 128 MB Lambda. Before decoding, the working memory of the whole
//!   clean is estimated from the header (decoded buffer, decoder scratch such as a progressive
//!   JPEG's coefficients, encoder copies, output) and refused over
//!   [`Limits::max_decode_memory`]. JPEGs are re-encoded straight from the decoded buffer through
//!   an oriented *view*, so a 90° rotation needs no second buffer. The `raster` module documents
//!   the expected peak.
//! * **PDF** (with `lopdf`): the trailer is replaced by one holding only `/Root` (so `/Info` —
//!   Author, Creator, Producer, Title, dates — and `/ID` go), every `/Metadata` (XMP) and
//!   `/PieceInfo` entry in any dictionary or stream is removed, as are embedded files (`/EF`,
//!   `/RF`), page thumbnails (`/Thumb`) and the author (`/T`) of markup annotations (comments and
//!   highlights carry the commenter's user name). JPEG images inside the PDF (`/DCTDecode`
//!   streams) lose their EXIF/XMP/comment segments. Objects no longer reachable are pruned and a
//!   fresh file is written, so no incremental-update history (which can keep an old `/Info`)
//!   survives. Encrypted PDFs are refused ([`Rejection::Encrypted`]): their strings and streams
//!   cannot be checked.

pub use lapor_core::FileType;

mod jpeg;
mod pdf;
mod raster;
mod rejection;

pub use rejection::Rejection;

use sha2::{Digest, Sha256};

/// What an upload may be. The defaults suit a 128 MB Lambda.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest upload accepted, in bytes; checked before anything else. Default 10 MiB.
    pub max_bytes: u64,
    /// Largest image accepted, as width × height read from the header. Default 40 000 000.
    pub max_pixels: u64,
    /// Largest estimated working memory of cleaning one image, in bytes (decoded pixels, decoder
    /// scratch, encoder copies and output; not the caller's copy of the upload). Pixels alone do
    /// not bound memory: a 16-bit RGBA PNG needs 8 bytes per pixel, a progressive JPEG keeps
    /// every DCT coefficient while decoding. Default 80 MiB, which admits a 24-megapixel
    /// baseline phone JPEG (about 69 MiB decoded) and leaves the rest of a 128 MB Lambda to the
    /// runtime and the request.
    pub max_decode_memory: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 10 * 1024 * 1024,
            max_pixels: 40_000_000,
            max_decode_memory: 80 * 1024 * 1024,
        }
    }
}

/// The kind of a file from its leading magic bytes alone, never from a name or a declared type.
///
/// PDF must start with `%PDF-` at byte 0: readers tolerate junk before it, but that tolerance is
/// what lets one file be both an HTML page and a "PDF".
pub fn detect(bytes: &[u8]) -> Option<FileType> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(FileType::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(FileType::Png)
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some(FileType::Webp)
    } else if bytes.starts_with(b"%PDF-") {
        Some(FileType::Pdf)
    } else {
        None
    }
}

/// A cleaned file, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clean {
    pub kind: FileType,
    pub bytes: Vec<u8>,
    /// Lowercase hex SHA-256 of [`Clean::bytes`] (not of the upload).
    pub sha256: String,
    /// Width in pixels after orientation was applied; `None` for PDF.
    pub width: Option<u32>,
    /// Height in pixels after orientation was applied; `None` for PDF.
    pub height: Option<u32>,
}

/// Checks an upload and returns a copy without metadata, or the reason it is refused.
///
/// Order: size ([`Rejection::TooLarge`], before any parsing), emptiness, type from magic bytes,
/// then the kind-specific checks and cleaning.
pub fn clean(bytes: &[u8], limits: &Limits) -> Result<Clean, Rejection> {
    let size = bytes.len() as u64;
    if size > limits.max_bytes {
        return Err(Rejection::TooLarge {
            bytes: size,
            max: limits.max_bytes,
        });
    }
    if bytes.is_empty() {
        return Err(Rejection::Empty);
    }
    let kind = detect(bytes).ok_or(Rejection::NotAllowedType)?;
    let (bytes, width, height) = match kind {
        FileType::Pdf => (pdf::clean(bytes)?, None, None),
        FileType::Jpeg | FileType::Png | FileType::Webp => {
            let image = raster::clean(kind, bytes, limits)?;
            (image.bytes, Some(image.width), Some(image.height))
        }
    };
    let sha256 = hex::encode(Sha256::digest(&bytes));
    Ok(Clean {
        kind,
        bytes,
        sha256,
        width,
        height,
    })
}
