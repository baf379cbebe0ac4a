//! A minimal JPEG marker walker: the frame header (for the memory estimate, before a decoder is
//! built) and metadata stripping for JPEG streams inside PDFs, which are kept as they are rather
//! than re-encoded.

const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;
const TEM: u8 = 0x01;
const COM: u8 = 0xFE;
const APP14: u8 = 0xEE;

/// What the frame header (SOFn) says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Frame {
    pub width: u16,
    pub height: u16,
    /// SOF2/6/10/14: the decoder keeps every coefficient of the image until the last scan.
    pub progressive: bool,
    /// (horizontal, vertical) sampling factor of each component.
    pub sampling: Vec<(u8, u8)>,
}

impl Frame {
    /// Bytes a progressive decode keeps for coefficients: one `i16` per sample of each
    /// component, components subsampled by their factors (rounded up to whole 8×8 blocks).
    pub fn coefficient_bytes(&self) -> u64 {
        let h_max = self.sampling.iter().map(|s| s.0).max().unwrap_or(1).max(1);
        let v_max = self.sampling.iter().map(|s| s.1).max().unwrap_or(1).max(1);
        let (width, height) = (u64::from(self.width), u64::from(self.height));
        self.sampling
            .iter()
            .map(|&(h, v)| {
                let w = (width * u64::from(h))
                    .div_ceil(u64::from(h_max))
                    .div_ceil(8)
                    * 8;
                let h = (height * u64::from(v))
                    .div_ceil(u64::from(v_max))
                    .div_ceil(8)
                    * 8;
                w * h * 2
            })
            .sum()
    }
}

fn is_sof(marker: u8) -> bool {
    // C0–CF except DHT (C4), JPG (C8) and DAC (CC).
    (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC)
}

fn is_standalone(marker: u8) -> bool {
    marker == TEM || (0xD0..=0xD7).contains(&marker)
}

/// Reads the marker at `*at` (skipping fill bytes) and moves past it.
fn marker(bytes: &[u8], at: &mut usize) -> Option<u8> {
    if *bytes.get(*at)? != 0xFF {
        return None;
    }
    while *bytes.get(*at)? == 0xFF {
        *at += 1;
    }
    let marker = bytes[*at];
    *at += 1;
    Some(marker)
}

/// The segment after a marker, length field included; `None` if it does not fit.
fn segment(bytes: &[u8], at: usize) -> Option<&[u8]> {
    let length = usize::from(u16::from_be_bytes([*bytes.get(at)?, *bytes.get(at + 1)?]));
    if length < 2 {
        return None;
    }
    bytes.get(at..at + length)
}

/// The frame header of a JPEG that is complete: the header segments walk from SOI to the first
/// SOS with a frame header (SOFn) among them, and an EOI follows the scan data. `None` otherwise,
/// notably for a file cut short (an interrupted upload): decoders would fill the missing part
/// with grey, which is not evidence of anything.
///
/// Scan data cannot contain `FF D9` (an `FF` there is followed by `00` or a restart marker), so
/// the first `FF D9` after the first SOS is the end of the image; whatever follows (a motion
/// photo's video, say) is ignored here and gone after re-encoding.
pub(crate) fn frame(bytes: &[u8]) -> Option<Frame> {
    if !bytes.starts_with(&[0xFF, SOI]) {
        return None;
    }
    let mut frame = None;
    let mut at = 2;
    loop {
        let marker = marker(bytes, &mut at)?;
        if is_standalone(marker) {
            continue;
        }
        if matches!(marker, SOI | EOI) {
            return None;
        }
        let segment = segment(bytes, at)?;
        at += segment.len();
        if marker == SOS {
            break;
        }
        if is_sof(marker) && frame.is_none() {
            frame = Some(parse_sof(marker, segment)?);
        }
    }
    let frame = frame?;
    bytes[at..]
        .windows(2)
        .any(|pair| pair == [0xFF, EOI])
        .then_some(frame)
}

fn parse_sof(marker: u8, segment: &[u8]) -> Option<Frame> {
    // length(2) precision(1) height(2) width(2) components(1), then 3 bytes each.
    let count = usize::from(*segment.get(7)?);
    let components = segment.get(8..8 + 3 * count)?;
    if count == 0 {
        return None;
    }
    Some(Frame {
        height: u16::from_be_bytes([segment[3], segment[4]]),
        width: u16::from_be_bytes([segment[5], segment[6]]),
        progressive: matches!(marker, 0xC2 | 0xC6 | 0xCA | 0xCE),
        sampling: components
            .chunks_exact(3)
            .map(|c| (c[1] >> 4, c[1] & 0x0F))
            .collect(),
    })
}

/// A copy of a JPEG with only what decoding needs: every APPn segment except an Adobe APP14
/// (which says how to read the colour channels) and every COM segment are dropped wherever they
/// appear, and so is anything after EOI. That removes EXIF (GPS, serial numbers), XMP, IPTC,
/// ICC, MPF secondary images and JFIF thumbnails. The entropy-coded data is copied unchanged.
///
/// `None` if the data is not a JPEG that can be walked to its end (a stream that stops inside
/// the entropy-coded data is accepted as it is: readers show what is there).
pub(crate) fn strip_metadata(bytes: &[u8]) -> Option<Vec<u8>> {
    if !bytes.starts_with(&[0xFF, SOI]) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&[0xFF, SOI]);
    let mut at = 2;
    loop {
        let marker = marker(bytes, &mut at)?;
        if marker == EOI {
            out.extend_from_slice(&[0xFF, EOI]);
            return Some(out);
        }
        if marker == SOI {
            return None;
        }
        if is_standalone(marker) {
            out.extend_from_slice(&[0xFF, marker]);
            continue;
        }
        let segment = segment(bytes, at)?;
        at += segment.len();
        let metadata = (0xE0..=0xEF).contains(&marker) || marker == COM;
        let adobe = marker == APP14 && segment[2..].starts_with(b"Adobe");
        if !metadata || adobe {
            out.extend_from_slice(&[0xFF, marker]);
            out.extend_from_slice(segment);
        }
        if marker == SOS {
            // Entropy-coded data runs to the next marker that is neither a stuffed 0xFF00 nor a
            // restart marker.
            let start = at;
            loop {
                let Some(offset) = bytes[at..].iter().position(|&b| b == 0xFF) else {
                    out.extend_from_slice(&bytes[start..]);
                    return Some(out);
                };
                let ff = at + offset;
                match bytes.get(ff + 1) {
                    None => {
                        out.extend_from_slice(&bytes[start..]);
                        return Some(out);
                    }
                    Some(0x00) | Some(0xD0..=0xD7) => at = ff + 2,
                    Some(0xFF) => at = ff + 1,
                    Some(_) => {
                        // `FF` bytes just before a marker are fill, never scan data.
                        let mut end = ff;
                        while end > start && bytes[end - 1] == 0xFF {
                            end -= 1;
                        }
                        out.extend_from_slice(&bytes[start..end]);
                        at = ff;
                        break;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(marker: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![0xFF, marker];
        out.extend_from_slice(&u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    fn sof(marker: u8, width: u16, height: u16, sampling: &[u8]) -> Vec<u8> {
        let mut payload = vec![8];
        payload.extend_from_slice(&height.to_be_bytes());
        payload.extend_from_slice(&width.to_be_bytes());
        payload.push(u8::try_from(sampling.len()).unwrap());
        for (i, s) in sampling.iter().enumerate() {
            payload.extend_from_slice(&[u8::try_from(i + 1).unwrap(), *s, 0]);
        }
        seg(marker, &payload)
    }

    fn scan() -> Vec<u8> {
        let mut out = seg(SOS, &[1, 1, 0, 0, 63, 0]);
        out.extend([0x12, 0xFF, 0x00, 0x34]);
        out
    }

    #[test]
    fn frame_reads_baseline_and_progressive_headers() {
        let mut file = vec![0xFF, SOI];
        file.extend(seg(0xE1, b"Exif\0\0whatever"));
        file.extend(sof(0xC2, 6000, 4000, &[0x22, 0x11, 0x11]));
        file.extend(scan());
        file.extend([0xFF, EOI]);
        let frame = frame(&file).unwrap();
        assert_eq!((frame.width, frame.height), (6000, 4000));
        assert!(frame.progressive);
        assert_eq!(frame.sampling, vec![(2, 2), (1, 1), (1, 1)]);
        // 4:2:0: 1.5 samples per pixel, two bytes each.
        assert_eq!(frame.coefficient_bytes(), 6000 * 4000 * 3);

        let mut file = vec![0xFF, SOI];
        file.extend(sof(0xC0, 40, 20, &[0x11]));
        file.extend(scan());
        file.extend([0xFF, EOI]);
        file.extend(b"appended");
        let frame = super::frame(&file).unwrap();
        assert!(!frame.progressive);
        assert_eq!(frame.coefficient_bytes(), 40 * 24 * 2);
    }

    #[test]
    fn frame_refuses_what_is_not_a_complete_jpeg() {
        assert_eq!(frame(b"<!doctype html>"), None);
        assert_eq!(frame(&[0xFF, SOI]), None);
        assert_eq!(frame(&[0xFF, SOI, 0xFF, 0xE1, 0x00]), None);
        // A segment length running past the end.
        assert_eq!(frame(&[0xFF, SOI, 0xFF, 0xE1, 0x40, 0x00, 1, 2]), None);
        // SOS before any frame header.
        let mut file = vec![0xFF, SOI];
        file.extend(scan());
        file.extend([0xFF, EOI]);
        assert_eq!(frame(&file), None);
        // Cut short in the scan data: no EOI. An EOI inside an APP segment (an EXIF thumbnail)
        // does not count.
        let mut file = vec![0xFF, SOI];
        file.extend(seg(
            0xE1,
            &[b'E', b'x', b'i', b'f', 0, 0, 0xFF, SOI, 0xFF, EOI],
        ));
        file.extend(sof(0xC0, 40, 20, &[0x11]));
        file.extend(scan());
        assert_eq!(frame(&file), None);
        file.extend([0xFF, EOI]);
        assert!(frame(&file).is_some());
    }

    #[test]
    fn strip_metadata_keeps_structure_and_drops_app_and_com_everywhere() {
        let mut file = vec![0xFF, SOI];
        file.extend(seg(0xE0, b"JFIF\0thumbnail"));
        file.extend(seg(0xE1, b"Exif\0\0SN-4711"));
        file.extend(seg(APP14, b"Adobe\0\x64\0\0\0\0\x01"));
        file.extend(seg(COM, b"secret comment"));
        let dqt = seg(0xDB, &[0; 65]);
        file.extend(&dqt);
        let sof = sof(0xC2, 8, 8, &[0x11]);
        file.extend(&sof);
        let sos = seg(SOS, &[1, 1, 0, 0, 0, 0]);
        file.extend(&sos);
        let scan = [0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD3, 0x56, 0xFF, 0xFF];
        file.extend(scan);
        file.extend(seg(0xE1, b"http://ns.adobe.com/xap/1.0/\0Budi"));
        file.extend(&sos);
        file.extend([0x78]);
        file.extend([0xFF, EOI]);
        file.extend(b"appended motion-photo video");

        let out = strip_metadata(&file).unwrap();
        let mut expected = vec![0xFF, SOI];
        expected.extend(seg(APP14, b"Adobe\0\x64\0\0\0\0\x01"));
        expected.extend(&dqt);
        expected.extend(&sof);
        expected.extend(&sos);
        expected.extend(&scan[..7]);
        expected.extend(&sos);
        expected.extend([0x78, 0xFF, EOI]);
        assert_eq!(out, expected);
    }

    #[test]
    fn strip_metadata_accepts_a_scan_cut_short_and_refuses_a_broken_header() {
        let mut file = vec![0xFF, SOI];
        file.extend(sof(0xC0, 8, 8, &[0x11]));
        file.extend(seg(SOS, &[1, 1, 0, 0, 63, 0]));
        file.extend([1, 2, 3]);
        assert_eq!(strip_metadata(&file).unwrap(), file);

        assert_eq!(strip_metadata(b"not a jpeg"), None);
        assert_eq!(strip_metadata(&[0xFF, SOI, 0xFF, 0xE1, 0x40, 0x00]), None);
        assert_eq!(strip_metadata(&[0xFF, SOI, 0x00]), None);
    }
}
