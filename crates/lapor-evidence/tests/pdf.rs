//! PDF uploads lose their document metadata, embedded files, annotation authors and the EXIF of
//! the photos inside, and keep their pages.

mod common;

use std::io::Cursor;

use common::*;
use image::{ImageFormat, ImageReader};
use lapor_evidence::{clean, FileType, Limits, Rejection};
use lopdf::encryption::{EncryptionState, EncryptionVersion, Permissions};
use lopdf::{Document, Object};

/// Every key of every dictionary and stream dictionary in the document, nested ones included.
fn all_keys(doc: &Document) -> Vec<Vec<u8>> {
    fn walk(object: &Object, keys: &mut Vec<Vec<u8>>) {
        let dictionary = match object {
            Object::Dictionary(dictionary) => dictionary,
            Object::Stream(stream) => &stream.dict,
            Object::Array(items) => {
                items.iter().for_each(|item| walk(item, keys));
                return;
            }
            _ => return,
        };
        for (key, value) in dictionary.iter() {
            keys.push(key.clone());
            walk(value, keys);
        }
    }
    let mut keys = Vec::new();
    for object in doc.objects.values() {
        walk(object, &mut keys);
    }
    keys
}

fn has_key(doc: &Document, key: &[u8]) -> bool {
    all_keys(doc).iter().any(|k| k == key)
}

fn load(bytes: &[u8]) -> Document {
    Document::load_mem(bytes).expect("cleaned PDF loads")
}

const LEAKS: [&str; 5] = [
    NAME,
    SERIAL,
    "Microsoft Word",
    "PDFMaker",
    "c0ffee-device-id",
];

#[test]
fn pdf_loses_info_xmp_piece_info_embedded_files_and_annotation_author() {
    let upload = pdf_with_metadata();
    let original = load(&upload);
    assert!(original.trailer.get(b"Info").is_ok());
    assert!(has_key(&original, b"Metadata"));
    assert!(has_key(&original, b"PieceInfo"));
    assert!(has_key(&original, b"EF"));
    for leak in LEAKS {
        assert!(contains(&upload, leak.as_bytes()), "fixture lacks {leak}");
    }

    let cleaned = clean(&upload, &Limits::default()).unwrap();
    assert_eq!(cleaned.kind, FileType::Pdf);
    assert_eq!((cleaned.width, cleaned.height), (None, None));
    for leak in LEAKS {
        assert!(
            !contains(&cleaned.bytes, leak.as_bytes()),
            "output contains {leak}"
        );
    }
    assert!(!contains(&cleaned.bytes, b"Exif\0\0"));
    assert!(!contains(&cleaned.bytes, b"http://ns.adobe.com/xap"));

    let doc = load(&cleaned.bytes);
    assert!(doc.trailer.get(b"Info").is_err());
    assert!(doc.trailer.get(b"ID").is_err());
    for key in [b"Metadata".as_slice(), b"PieceInfo", b"EF", b"T"] {
        assert!(!has_key(&doc, key), "{} left", String::from_utf8_lossy(key));
    }
    // No object of the type the XMP stream had, and no embedded file stream, survives pruning.
    assert!(!doc.objects.values().any(|object| {
        object
            .as_stream()
            .is_ok_and(|s| s.dict.has_type(b"Metadata") || s.dict.has_type(b"EmbeddedFile"))
    }));
    assert!(doc.objects.len() < original.objects.len());

    // The pages, their text, the comment and the photo are still there.
    assert_eq!(doc.get_pages().len(), original.get_pages().len());
    let page = *doc.get_pages().get(&1).unwrap();
    assert!(contains(&doc.get_page_content(page), PAGE_TEXT.as_bytes()));
    let annotations = doc.get_page_annotations(page).unwrap();
    assert_eq!(annotations.len(), 1);
    assert_eq!(
        annotations[0]
            .get(b"Contents")
            .and_then(Object::as_str)
            .unwrap(),
        b"lihat foto"
    );
    let photo = doc
        .objects
        .values()
        .filter_map(|object| object.as_stream().ok())
        .find(|stream| stream.dict.has_type(b"XObject"))
        .expect("image XObject kept");
    assert!(!contains(&photo.content, b"Exif"));
    let decoded = ImageReader::with_format(Cursor::new(&photo.content), ImageFormat::Jpeg)
        .decode()
        .expect("photo still decodes");
    assert_eq!((decoded.width(), decoded.height()), (40, 20));
    assert_eq!(
        photo.dict.get(b"Length").and_then(Object::as_i64).unwrap(),
        photo.content.len() as i64
    );
}

#[test]
fn pdf_incremental_update_history_does_not_survive() {
    let mut doc = pdf_document();
    let root = doc.trailer.get(b"Root").unwrap().as_reference().unwrap();
    let size = doc.max_id + 1;
    let upload = with_incremental_update(&save(&mut doc), root, size);
    // The latest revision points at the harmless Info, the old one is still in the file.
    let updated = load(&upload);
    let info = updated
        .trailer
        .get(b"Info")
        .unwrap()
        .as_reference()
        .unwrap();
    assert_eq!(info, (size, 0));
    assert!(contains(&upload, NAME.as_bytes()));

    let cleaned = clean(&upload, &Limits::default()).unwrap();
    assert!(!contains(&cleaned.bytes, NAME.as_bytes()));
    assert!(!contains(&cleaned.bytes, b"Anonim"));
    let text = String::from_utf8_lossy(&cleaned.bytes);
    assert_eq!(text.matches("%%EOF").count(), 1, "one revision only");
    assert!(!text.contains("/Prev"));
    assert_eq!(load(&cleaned.bytes).get_pages().len(), 1);
}

#[test]
fn encrypted_pdf_is_refused() {
    for user_password in ["rahasia", ""] {
        let mut doc = pdf_document();
        let state = EncryptionState::try_from(EncryptionVersion::V2 {
            document: &doc,
            owner_password: "pemilik",
            user_password,
            key_length: 128,
            permissions: Permissions::PRINTABLE,
        })
        .unwrap();
        doc.encrypt(&state).unwrap();
        let upload = save(&mut doc);
        assert!(contains(&upload, b"/Encrypt"));
        assert_eq!(
            clean(&upload, &Limits::default()),
            Err(Rejection::Encrypted),
            "user password {user_password:?}"
        );
    }
}

#[test]
fn pdf_that_does_not_parse_or_has_no_pages_is_unreadable() {
    for upload in [
        b"%PDF-1.7\n<html><body>not a pdf</body></html>".to_vec(),
        b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF"
            .to_vec(),
        b"%PDF-".to_vec(),
    ] {
        assert_eq!(
            clean(&upload, &Limits::default()),
            Err(Rejection::Unreadable),
            "{}",
            String::from_utf8_lossy(&upload)
        );
    }
}
