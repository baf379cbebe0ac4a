//! Fixtures built in code: images and PDFs that carry the metadata a real phone or office
//! program would leave, so each test can check that it is gone.
#![allow(dead_code)] // Each test binary uses its own subset.

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::{ImageEncoder, Rgb, RgbImage, Rgba, RgbaImage};
use lopdf::content::{Content, Operation};
use lopdf::{dictionary, Document, Object, ObjectId, Stream};

/// The camera's serial number (EXIF BodySerialNumber).
pub const SERIAL: &str = "SN-4711-WHISTLE";
/// The reporter's name, in XMP, PNG text, PDF Info and annotations.
pub const NAME: &str = "Budi Santoso";
/// A JPEG comment / PNG text that names the reporter's phone number.
pub const COMMENT: &str = "dikirim dari HP 0812-3456-7890";
/// The page text of the PDF fixture.
pub const PAGE_TEXT: &str = "Laporan jalan rusak di Jl. Merdeka";

pub const RED: [u8; 3] = [255, 0, 0];
pub const BLUE: [u8; 3] = [0, 0, 255];

/// 40 × 20, blue with a red 10 × 10 top-left corner.
pub fn marked_image() -> RgbImage {
    RgbImage::from_fn(40, 20, |x, y| {
        if x < 10 && y < 10 {
            Rgb(RED)
        } else {
            Rgb(BLUE)
        }
    })
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

// --- EXIF (TIFF) ---------------------------------------------------------------------------

struct Entry {
    tag: u16,
    kind: u16,
    count: u32,
    data: Vec<u8>,
}

const ASCII: u16 = 2;
const SHORT: u16 = 3;
const LONG: u16 = 4;
const RATIONAL: u16 = 5;

fn ascii(tag: u16, text: &str) -> Entry {
    let mut data = text.as_bytes().to_vec();
    data.push(0);
    Entry {
        tag,
        kind: ASCII,
        count: data.len() as u32,
        data,
    }
}

fn short(tag: u16, value: u16) -> Entry {
    Entry {
        tag,
        kind: SHORT,
        count: 1,
        data: value.to_le_bytes().to_vec(),
    }
}

fn long(tag: u16, value: u32) -> Entry {
    Entry {
        tag,
        kind: LONG,
        count: 1,
        data: value.to_le_bytes().to_vec(),
    }
}

fn rationals(tag: u16, values: &[(u32, u32)]) -> Entry {
    let data = values
        .iter()
        .flat_map(|(n, d)| n.to_le_bytes().into_iter().chain(d.to_le_bytes()))
        .collect();
    Entry {
        tag,
        kind: RATIONAL,
        count: values.len() as u32,
        data,
    }
}

/// Bytes an IFD takes with its out-of-line values.
fn ifd_len(entries: &[Entry]) -> usize {
    let values: usize = entries
        .iter()
        .filter(|e| e.data.len() > 4)
        .map(|e| e.data.len().next_multiple_of(2))
        .sum();
    2 + 12 * entries.len() + 4 + values
}

/// Appends an IFD that starts at `offset` in the TIFF, its long values right after it.
fn write_ifd(out: &mut Vec<u8>, entries: &[Entry], offset: usize) {
    assert_eq!(out.len(), offset);
    let mut values = Vec::new();
    let values_start = offset + 2 + 12 * entries.len() + 4;
    out.extend((entries.len() as u16).to_le_bytes());
    for entry in entries {
        out.extend(entry.tag.to_le_bytes());
        out.extend(entry.kind.to_le_bytes());
        out.extend(entry.count.to_le_bytes());
        if entry.data.len() <= 4 {
            let mut inline = entry.data.clone();
            inline.resize(4, 0);
            out.extend(inline);
        } else {
            out.extend(((values_start + values.len()) as u32).to_le_bytes());
            values.extend(&entry.data);
            if values.len() % 2 == 1 {
                values.push(0);
            }
        }
    }
    out.extend(0u32.to_le_bytes());
    out.extend(values);
}

/// A little-endian TIFF as EXIF carries it: IFD0 with Orientation and Artist, an Exif IFD with
/// BodySerialNumber (0xA431), and a GPS IFD with latitude and longitude (Jakarta).
pub fn exif_tiff(orientation: u16) -> Vec<u8> {
    let exif = vec![ascii(0xA431, SERIAL)];
    let gps = vec![
        ascii(0x0001, "S"),
        rationals(0x0002, &[(6, 1), (12, 1), (3456, 100)]),
        ascii(0x0003, "E"),
        rationals(0x0004, &[(106, 1), (49, 1), (1234, 100)]),
    ];
    let ifd0 = |exif_offset: u32, gps_offset: u32| {
        vec![
            short(0x0112, orientation),
            ascii(0x013B, NAME),
            long(0x8769, exif_offset),
            long(0x8825, gps_offset),
        ]
    };
    let exif_offset = 8 + ifd_len(&ifd0(0, 0));
    let gps_offset = exif_offset + ifd_len(&exif);

    let mut out = b"II*\0".to_vec();
    out.extend(8u32.to_le_bytes());
    write_ifd(&mut out, &ifd0(exif_offset as u32, gps_offset as u32), 8);
    write_ifd(&mut out, &exif, exif_offset);
    write_ifd(&mut out, &gps, gps_offset);
    out
}

pub fn xmp_packet() -> String {
    format!(
        "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\
         <x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF \
         xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\
         <rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\
         <dc:creator><rdf:Seq><rdf:li>{NAME}</rdf:li></rdf:Seq></dc:creator>\
         </rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end=\"w\"?>"
    )
}

pub const XMP_JPEG_HEADER: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";

// --- JPEG ----------------------------------------------------------------------------------

fn jpeg_segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0xFF, marker];
    out.extend(u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
    out.extend(payload);
    out
}

pub fn encode_jpeg(image: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 95)
        .encode_image(image)
        .unwrap();
    out
}

/// Splices, right after SOI: an EXIF APP1 (orientation, GPS, serial), an XMP APP1 and a COM.
pub fn add_jpeg_metadata(encoded: &[u8], orientation: u16) -> Vec<u8> {
    assert_eq!(&encoded[..2], &[0xFF, 0xD8]);
    let mut out = vec![0xFF, 0xD8];
    out.extend(jpeg_segment(
        0xE1,
        &[b"Exif\0\0".as_slice(), &exif_tiff(orientation)].concat(),
    ));
    out.extend(jpeg_segment(
        0xE1,
        &[XMP_JPEG_HEADER, xmp_packet().as_bytes()].concat(),
    ));
    out.extend(jpeg_segment(0xFE, COMMENT.as_bytes()));
    out.extend(&encoded[2..]);
    out
}

/// [`marked_image`] as a JPEG whose EXIF says "rotate 90° clockwise to display" (6).
pub fn jpeg_with_metadata() -> Vec<u8> {
    add_jpeg_metadata(&encode_jpeg(&marked_image()), 6)
}

/// The markers of the header segments, SOI to the first SOS.
pub fn jpeg_header_markers(bytes: &[u8]) -> Vec<u8> {
    let mut markers = Vec::new();
    let mut at = 2;
    while at + 4 <= bytes.len() {
        assert_eq!(bytes[at], 0xFF);
        let marker = bytes[at + 1];
        markers.push(marker);
        if marker == 0xDA {
            break;
        }
        at += 2 + usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
    }
    markers
}

// --- PNG -----------------------------------------------------------------------------------

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

pub fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    let start = out.len();
    out.extend(kind);
    out.extend(data);
    let crc = crc32(&out[start..]);
    out.extend(crc.to_be_bytes());
    out
}

/// A zlib stream with one stored (uncompressed) deflate block.
pub fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let len = u16::try_from(data.len()).unwrap();
    let mut out = vec![0x78, 0x01, 0x01];
    out.extend(len.to_le_bytes());
    out.extend((!len).to_le_bytes());
    out.extend(data);
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    out.extend(((b << 16) | a).to_be_bytes());
    out
}

/// The chunk types of a PNG, in order.
pub fn png_chunk_types(bytes: &[u8]) -> Vec<String> {
    let mut types = Vec::new();
    let mut at = 8;
    while at + 8 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        types.push(String::from_utf8_lossy(&bytes[at + 4..at + 8]).into_owned());
        at += 12 + len;
    }
    types
}

/// A 7 × 5 RGBA image with every pixel different.
pub fn png_source() -> RgbaImage {
    RgbaImage::from_fn(7, 5, |x, y| {
        Rgba([
            (x * 30) as u8,
            (y * 50) as u8,
            (x * y * 7) as u8,
            255 - (x + y) as u8,
        ])
    })
}

/// [`png_source`] as a PNG with tEXt (Author), zTXt, iTXt (XMP) and eXIf chunks before IDAT,
/// and another tEXt after it.
pub fn png_with_metadata() -> Vec<u8> {
    let source = png_source();
    let mut encoded = Vec::new();
    PngEncoder::new(&mut encoded)
        .write_image(
            source.as_raw(),
            source.width(),
            source.height(),
            image::ExtendedColorType::Rgba8,
        )
        .unwrap();
    // Signature (8) + IHDR (4 + 4 + 13 + 4).
    let after_ihdr = 8 + 25;
    assert_eq!(&encoded[12..16], b"IHDR");
    let iend = encoded.len() - 12;
    assert_eq!(&encoded[iend + 4..iend + 8], b"IEND");

    let mut out = encoded[..after_ihdr].to_vec();
    out.extend(png_chunk(b"tEXt", format!("Author\0{NAME}").as_bytes()));
    let mut ztxt = b"Comment\0\0".to_vec();
    ztxt.extend(zlib_stored(COMMENT.as_bytes()));
    out.extend(png_chunk(b"zTXt", &ztxt));
    let mut itxt = b"XML:com.adobe.xmp\0\0\0\0\0".to_vec();
    itxt.extend(xmp_packet().as_bytes());
    out.extend(png_chunk(b"iTXt", &itxt));
    out.extend(png_chunk(b"eXIf", &exif_tiff(1)));
    out.extend(&encoded[after_ihdr..iend]);
    out.extend(png_chunk(b"tEXt", format!("Software\0{SERIAL}").as_bytes()));
    out.extend(&encoded[iend..]);
    out
}

/// A PNG of a few dozen bytes whose IHDR claims `width` × `height` RGBA pixels.
pub fn png_bomb(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = Vec::new();
    ihdr.extend(width.to_be_bytes());
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, 6, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(png_chunk(b"IHDR", &ihdr));
    out.extend(png_chunk(b"IDAT", &zlib_stored(&[0; 16])));
    out.extend(png_chunk(b"IEND", &[]));
    out
}

// --- WebP ----------------------------------------------------------------------------------

fn riff_chunk(fourcc: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = fourcc.to_vec();
    out.extend((data.len() as u32).to_le_bytes());
    out.extend(data);
    if data.len() % 2 == 1 {
        out.push(0);
    }
    out
}

/// The fourccs of the chunks inside a WebP's RIFF container, in order.
pub fn webp_chunks(bytes: &[u8]) -> Vec<String> {
    assert_eq!(&bytes[..4], b"RIFF");
    assert_eq!(&bytes[8..12], b"WEBP");
    let mut chunks = Vec::new();
    let mut at = 12;
    while at + 8 <= bytes.len() {
        let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        chunks.push(String::from_utf8_lossy(&bytes[at..at + 4]).into_owned());
        at += 8 + len.next_multiple_of(2);
    }
    chunks
}

/// [`marked_image`] as a lossless WebP, rewrapped in the extended format (VP8X with the EXIF and
/// XMP flags) with an EXIF chunk (orientation 6, GPS, serial) and an XMP chunk.
pub fn webp_with_metadata() -> Vec<u8> {
    let source = marked_image();
    let mut simple = Vec::new();
    WebPEncoder::new_lossless(&mut simple)
        .write_image(
            source.as_raw(),
            source.width(),
            source.height(),
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    assert_eq!(webp_chunks(&simple), ["VP8L"]);

    const EXIF_FLAG: u8 = 0x08;
    const XMP_FLAG: u8 = 0x04;
    let mut vp8x = vec![EXIF_FLAG | XMP_FLAG, 0, 0, 0];
    vp8x.extend(&(source.width() - 1).to_le_bytes()[..3]);
    vp8x.extend(&(source.height() - 1).to_le_bytes()[..3]);

    let mut body = b"WEBP".to_vec();
    body.extend(riff_chunk(b"VP8X", &vp8x));
    body.extend(&simple[12..]);
    body.extend(riff_chunk(b"EXIF", &exif_tiff(6)));
    body.extend(riff_chunk(b"XMP ", xmp_packet().as_bytes()));
    let mut out = b"RIFF".to_vec();
    out.extend((body.len() as u32).to_le_bytes());
    out.extend(body);
    out
}

// --- PDF -----------------------------------------------------------------------------------

fn text(value: &str) -> Object {
    Object::string_literal(value)
}

/// A one-page PDF as an office program and a reviewer would leave it: an Info dictionary, an XMP
/// stream on the catalog, page-piece data, a comment annotation by the reporter, the EXIF-laden
/// photo drawn as a `/DCTDecode` image and attached again as an embedded file.
pub fn pdf_document() -> Document {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Helvetica",
    });
    let image_id = doc.add_object(Stream::new(
        dictionary! {
            "Type" => "XObject",
            "Subtype" => "Image",
            "Width" => 40,
            "Height" => 20,
            "ColorSpace" => "DeviceRGB",
            "BitsPerComponent" => 8,
            "Filter" => "DCTDecode",
        },
        jpeg_with_metadata(),
    ));
    let resources_id = doc.add_object(dictionary! {
        "Font" => dictionary! { "F1" => font_id },
        "XObject" => dictionary! { "Im1" => image_id },
    });
    let content = Content {
        operations: vec![
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F1".into(), 18.into()]),
            Operation::new("Td", vec![72.into(), 760.into()]),
            Operation::new("Tj", vec![text(PAGE_TEXT)]),
            Operation::new("ET", vec![]),
            Operation::new("q", vec![]),
            Operation::new(
                "cm",
                vec![
                    200.into(),
                    0.into(),
                    0.into(),
                    100.into(),
                    72.into(),
                    600.into(),
                ],
            ),
            Operation::new("Do", vec!["Im1".into()]),
            Operation::new("Q", vec![]),
        ],
    };
    let content_id = doc.add_object(Stream::new(dictionary! {}, content.encode().unwrap()));
    let annotation_id = doc.add_object(dictionary! {
        "Type" => "Annot",
        "Subtype" => "Text",
        "Rect" => vec![72.into(), 500.into(), 92.into(), 520.into()],
        "Contents" => text("lihat foto"),
        "T" => text(NAME),
    });
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "Contents" => content_id,
        "Resources" => resources_id,
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        "Annots" => vec![annotation_id.into()],
        "PieceInfo" => dictionary! {
            "Word" => dictionary! { "Private" => text(&format!("C:\\Users\\{NAME}\\laporan.docx")) },
        },
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => vec![page_id.into()],
            "Count" => 1,
        }),
    );
    let metadata_id = doc.add_object(Stream::new(
        dictionary! { "Type" => "Metadata", "Subtype" => "XML" },
        xmp_packet().into_bytes(),
    ));
    let embedded_id = doc.add_object(Stream::new(
        dictionary! { "Type" => "EmbeddedFile" },
        jpeg_with_metadata(),
    ));
    let filespec_id = doc.add_object(dictionary! {
        "Type" => "Filespec",
        "F" => text("foto_asli.jpg"),
        "EF" => dictionary! { "F" => embedded_id },
    });
    let catalog_id = doc.add_object(dictionary! {
        "Type" => "Catalog",
        "Pages" => pages_id,
        "Metadata" => metadata_id,
        "Names" => dictionary! {
            "EmbeddedFiles" => dictionary! {
                "Names" => vec![text("foto_asli.jpg"), filespec_id.into()],
            },
        },
    });
    doc.trailer.set("Root", catalog_id);
    let info_id = doc.add_object(dictionary! {
        "Author" => text(NAME),
        "Creator" => text("Microsoft Word - laporan_budi.docx"),
        "Producer" => text("Acrobat PDFMaker 23 untuk Word"),
        "Title" => text("Laporan"),
    });
    doc.trailer.set("Info", info_id);
    doc.trailer.set(
        "ID",
        vec![
            Object::string_literal(b"c0ffee-device-id".to_vec()),
            Object::string_literal(b"c0ffee-device-id".to_vec()),
        ],
    );
    doc
}

pub fn save(doc: &mut Document) -> Vec<u8> {
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

pub fn pdf_with_metadata() -> Vec<u8> {
    save(&mut pdf_document())
}

/// Appends an incremental update that points `/Info` at a new, harmless dictionary. The old
/// Info (with the reporter's name) stays in the file, unreferenced by the latest revision.
pub fn with_incremental_update(pdf: &[u8], root: ObjectId, size: u32) -> Vec<u8> {
    let text = String::from_utf8_lossy(pdf);
    let startxref = text.rfind("startxref").unwrap();
    let previous: usize = text[startxref + "startxref".len()..]
        .trim()
        .trim_end_matches("%%EOF")
        .trim()
        .parse()
        .unwrap();
    let mut out = pdf.to_vec();
    out.push(b'\n');
    let object_offset = out.len();
    out.extend(format!("{size} 0 obj\n<< /Author (Anonim) >>\nendobj\n").as_bytes());
    let xref_offset = out.len();
    out.extend(
        format!(
            "xref\n0 1\n0000000000 65535 f \n{size} 1\n{object_offset:010} 00000 n \n\
             trailer\n<< /Size {} /Root {} {} R /Info {size} 0 R /Prev {previous} >>\n\
             startxref\n{xref_offset}\n%%EOF\n",
            size + 1,
            root.0,
            root.1,
        )
        .as_bytes(),
    );
    out
}

/// What a fixture carries that must not survive cleaning: the EXIF header, the camera serial, the
/// reporter's name and comment, and the XMP packet.
pub const LEAKS: [&[u8]; 6] = [
    b"Exif\0\0",
    SERIAL.as_bytes(),
    NAME.as_bytes(),
    COMMENT.as_bytes(),
    b"http://ns.adobe.com/xap",
    b"xpacket",
];

/// Fails if any of [`LEAKS`] is in `bytes` (for the flows that download a cleaned file).
pub fn assert_clean(bytes: &[u8]) {
    for leak in LEAKS {
        assert!(
            !contains(bytes, leak),
            "{:?} survived",
            String::from_utf8_lossy(leak)
        );
    }
}
