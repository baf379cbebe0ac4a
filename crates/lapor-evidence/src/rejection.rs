//! Why an upload was refused, with a stable code and a message for the reporter.

/// Why an upload was refused. `Display` is a short English text for logs; show the reporter
/// [`Rejection::message_id`] (or [`Rejection::message_en`]) and branch on [`Rejection::code`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// No bytes at all.
    #[error("the file is empty")]
    Empty,
    /// Over [`crate::Limits::max_bytes`]; refused before any parsing.
    #[error("the file is {bytes} bytes; the limit is {max} bytes")]
    TooLarge { bytes: u64, max: u64 },
    /// Not JPEG, PNG, WebP or PDF by its magic bytes (HTML, SVG, archives, executables, …).
    #[error("the file type is not allowed (only JPEG, PNG, WebP and PDF are)")]
    NotAllowedType,
    /// The image header claims more than [`crate::Limits::max_pixels`] pixels.
    #[error("the image has {pixels} pixels; the limit is {max}")]
    TooManyPixels { pixels: u64, max: u64 },
    /// Cleaning the image would need more than [`crate::Limits::max_decode_memory`] bytes
    /// (e.g. a large progressive JPEG or a 16-bit PNG), or the decoder hit its allocation cap.
    #[error("cleaning the image would need more than {max} bytes of memory")]
    TooLargeToDecode { max: u64 },
    /// Corrupt, truncated, or a variant the decoders cannot read, so it cannot be cleaned.
    #[error("the file is corrupt, truncated or cannot be decoded")]
    Unreadable,
    /// An encrypted (password-protected or permission-restricted) PDF: its strings and streams
    /// cannot be checked for metadata.
    #[error("the PDF is encrypted, so its metadata cannot be removed")]
    Encrypted,
}

impl Rejection {
    /// A stable machine-readable code (snake case), e.g. for an API error body or a metric.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::Empty => "empty",
            Rejection::TooLarge { .. } => "too_large",
            Rejection::NotAllowedType => "not_allowed_type",
            Rejection::TooManyPixels { .. } => "too_many_pixels",
            Rejection::TooLargeToDecode { .. } => "too_large_to_decode",
            Rejection::Unreadable => "unreadable",
            Rejection::Encrypted => "encrypted",
        }
    }

    /// The message for the reporter, in Bahasa Indonesia.
    pub fn message_id(&self) -> String {
        match self {
            Rejection::Empty => {
                "Berkas kosong. Silakan pilih berkas bukti lalu kirim ulang.".to_string()
            }
            Rejection::TooLarge { bytes, max } => format!(
                "Berkas terlalu besar ({} MB). Ukuran maksimal {} MB. Kecilkan atau kompres berkas lalu kirim ulang.",
                decimal(*bytes, MIB, ','),
                decimal(*max, MIB, ','),
            ),
            Rejection::NotAllowedType => "Jenis berkas tidak diizinkan. Kirim foto (JPEG, PNG, atau WebP) atau dokumen PDF.".to_string(),
            Rejection::TooManyPixels { pixels, max } => format!(
                "Resolusi gambar terlalu besar ({} megapiksel; maksimal {} megapiksel). Kecilkan ukuran gambar lalu kirim ulang.",
                decimal(*pixels, MEGA, ','),
                decimal(*max, MEGA, ','),
            ),
            Rejection::TooLargeToDecode { .. } => "Gambar terlalu besar untuk diproses. Kecilkan resolusinya atau simpan ulang sebagai JPEG biasa, lalu kirim ulang.".to_string(),
            Rejection::Unreadable => "Berkas rusak atau tidak dapat dibaca. Periksa berkasnya lalu kirim ulang.".to_string(),
            Rejection::Encrypted => "PDF ini terkunci dengan kata sandi atau enkripsi sehingga tidak dapat diperiksa. Kirim PDF tanpa kata sandi.".to_string(),
        }
    }

    /// The message for the reporter, in English.
    pub fn message_en(&self) -> String {
        match self {
            Rejection::Empty => "The file is empty. Please choose your evidence file and send it again.".to_string(),
            Rejection::TooLarge { bytes, max } => format!(
                "The file is too large ({} MB). The maximum is {} MB. Please make it smaller and send it again.",
                decimal(*bytes, MIB, '.'),
                decimal(*max, MIB, '.'),
            ),
            Rejection::NotAllowedType => "This type of file is not allowed. Please send a photo (JPEG, PNG or WebP) or a PDF document.".to_string(),
            Rejection::TooManyPixels { pixels, max } => format!(
                "The image resolution is too high ({} megapixels; the maximum is {} megapixels). Please make the image smaller and send it again.",
                decimal(*pixels, MEGA, '.'),
                decimal(*max, MEGA, '.'),
            ),
            Rejection::TooLargeToDecode { .. } => "The image is too large to process. Please reduce its resolution or save it again as a normal JPEG, and send it again.".to_string(),
            Rejection::Unreadable => "The file is damaged or cannot be read. Please check the file and send it again.".to_string(),
            Rejection::Encrypted => "This PDF is locked with a password or encryption, so it cannot be checked. Please send a PDF without a password.".to_string(),
        }
    }
}

const MIB: u64 = 1024 * 1024;
const MEGA: u64 = 1_000_000;

/// `value / unit` rounded to one decimal, the decimal dropped when it is zero, with the given
/// decimal separator (`,` in Indonesian, `.` in English).
fn decimal(value: u64, unit: u64, separator: char) -> String {
    let tenths = (u128::from(value) * 10 + u128::from(unit) / 2) / u128::from(unit);
    let (whole, tenth) = (tenths / 10, tenths % 10);
    if tenth == 0 {
        whole.to_string()
    } else {
        format!("{whole}{separator}{tenth}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_rounds_to_one_place_with_the_language_separator() {
        assert_eq!(decimal(10 * MIB, MIB, ','), "10");
        assert_eq!(decimal(12 * MIB + MIB / 2, MIB, ','), "12,5");
        assert_eq!(decimal(12 * MIB + MIB / 2, MIB, '.'), "12.5");
        assert_eq!(decimal(2_500_000_000, MEGA, '.'), "2500");
        assert_eq!(decimal(40_049_999, MEGA, '.'), "40");
        assert_eq!(decimal(40_050_000, MEGA, '.'), "40.1");
        assert_eq!(decimal(u64::MAX, 1, '.'), u64::MAX.to_string());
    }

    #[test]
    fn too_large_message_names_both_sizes() {
        let rejection = Rejection::TooLarge {
            bytes: 12 * MIB + MIB / 2,
            max: 10 * MIB,
        };
        assert!(rejection.message_id().contains("12,5 MB"));
        assert!(rejection.message_id().contains("10 MB"));
        assert!(rejection.message_en().contains("12.5 MB"));
    }
}
