//! PDF: remove document metadata and everything else that names a person or a device, prune,
//! and write a fresh file.
//!
//! Memory: `lopdf` holds the parsed document (roughly the file size again, more for many small
//! objects) and the output; each stream is decompressed at most to [`MAX_DECOMPRESSED_STREAM`]
//! while loading (object and cross-reference streams; content streams stay compressed).

use lopdf::{Dictionary, Document, LoadOptions, Object};

use crate::jpeg;
use crate::Rejection;

/// Largest size one stream may inflate to while loading. Object and cross-reference streams of
/// real documents are far smaller; a crafted one could inflate to gigabytes.
pub(crate) const MAX_DECOMPRESSED_STREAM: usize = 16 * 1024 * 1024;

/// Keys removed from every dictionary and stream dictionary, wherever they appear.
const DROPPED_KEYS: &[&[u8]] = &[
    // XMP packets: creator, tool, editing history, document and instance IDs.
    b"Metadata",
    // Private data of the application that wrote the file (can include the original document).
    b"PieceInfo",
    // Embedded and related files of a file specification: whole files with their own metadata.
    b"EF",
    b"RF",
    // Page thumbnails: may still show what was changed or redacted since.
    b"Thumb",
];

/// Annotation subtypes whose `/T` is the author (the commenter's user name). Elsewhere `/T` is a
/// form field's name or something else again, and is kept.
const MARKUP_ANNOTATIONS: &[&[u8]] = &[
    b"Text",
    b"FreeText",
    b"Line",
    b"Square",
    b"Circle",
    b"Polygon",
    b"PolyLine",
    b"Highlight",
    b"Underline",
    b"Squiggly",
    b"StrikeOut",
    b"Caret",
    b"Stamp",
    b"Ink",
    b"FileAttachment",
    b"Sound",
    b"Redact",
];

pub(crate) fn clean(bytes: &[u8]) -> Result<Vec<u8>, Rejection> {
    let options = LoadOptions {
        max_decompressed_size: Some(MAX_DECOMPRESSED_STREAM),
        ..LoadOptions::default()
    };
    let mut document =
        Document::load_mem_with_options(bytes, options).map_err(|_| Rejection::Unreadable)?;
    // `was_encrypted`: lopdf opens a file encrypted with an empty user password by itself.
    // Refused either way: what it could not decrypt would be written out unchecked.
    if document.is_encrypted() || document.was_encrypted() {
        return Err(Rejection::Encrypted);
    }
    let root = document
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .map_err(|_| Rejection::Unreadable)?;

    // A fresh trailer with only the catalog: `/Info` (Author, Creator, Producer, Title, dates),
    // `/ID` (file identifiers a producer derives from the path and time) and anything else go.
    let mut trailer = Dictionary::new();
    trailer.set("Root", Object::Reference(root));
    document.trailer = trailer;

    for object in document.objects.values_mut() {
        scrub(object)?;
    }
    // Everything only the old trailer, the metadata or the embedded files referred to.
    document.prune_objects();

    // Lenient loading turns almost anything that starts with `%PDF-` into a document; one
    // without pages shows nothing and is not evidence.
    if document.get_pages().is_empty() {
        return Err(Rejection::Unreadable);
    }
    // A full save: every remaining object once, no incremental-update sections.
    let mut out = Vec::new();
    document
        .save_to(&mut out)
        .map_err(|_| Rejection::Unreadable)?;
    Ok(out)
}

fn scrub(object: &mut Object) -> Result<(), Rejection> {
    match object {
        Object::Dictionary(dictionary) => scrub_dictionary(dictionary),
        Object::Stream(stream) => {
            scrub_dictionary(&mut stream.dict)?;
            if is_plain_jpeg(&stream.dict) {
                let stripped =
                    jpeg::strip_metadata(&stream.content).ok_or(Rejection::Unreadable)?;
                if stripped != stream.content {
                    stream.set_content(stripped);
                }
            }
            Ok(())
        }
        Object::Array(items) => items.iter_mut().try_for_each(scrub),
        _ => Ok(()),
    }
}

fn scrub_dictionary(dictionary: &mut Dictionary) -> Result<(), Rejection> {
    for key in DROPPED_KEYS {
        dictionary.remove(key);
    }
    let markup = dictionary
        .get(b"Subtype")
        .and_then(Object::as_name)
        .is_ok_and(|subtype| MARKUP_ANNOTATIONS.contains(&subtype));
    if markup {
        dictionary.remove(b"T");
    }
    for (_, value) in dictionary.iter_mut() {
        scrub(value)?;
    }
    Ok(())
}

/// A stream whose only filter is `/DCTDecode`: its content is a JPEG file as it came from the
/// camera or the scanner app, EXIF included. (A JPEG behind other filters is left alone.)
fn is_plain_jpeg(dictionary: &Dictionary) -> bool {
    match dictionary.get(b"Filter") {
        Ok(Object::Name(name)) => name == b"DCTDecode",
        Ok(Object::Array(filters)) => {
            matches!(filters.as_slice(), [Object::Name(name)] if name == b"DCTDecode")
        }
        _ => false,
    }
}
