//! The fixed list of complaint categories, with their Indonesian labels. Routing rules and
//! statistics key on the stable `id`; the labels are what citizens see.

use serde::{Deserialize, Serialize};

use crate::error::Invalid;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Infrastruktur,
    Perhubungan,
    Kesehatan,
    Pendidikan,
    LingkunganHidup,
    AdministrasiKependudukan,
    SosialKesejahteraan,
    KetertibanUmum,
    Utilitas,
    PerizinanInvestasi,
    Ketenagakerjaan,
    PajakRetribusi,
    KomunikasiInformatika,
    Korupsi,
    Lainnya,
}

impl Category {
    pub const ALL: [Category; 15] = [
        Category::Infrastruktur,
        Category::Perhubungan,
        Category::Kesehatan,
        Category::Pendidikan,
        Category::LingkunganHidup,
        Category::AdministrasiKependudukan,
        Category::SosialKesejahteraan,
        Category::KetertibanUmum,
        Category::Utilitas,
        Category::PerizinanInvestasi,
        Category::Ketenagakerjaan,
        Category::PajakRetribusi,
        Category::KomunikasiInformatika,
        Category::Korupsi,
        Category::Lainnya,
    ];

    pub fn id(self) -> &'static str {
        self.describe().0
    }

    /// Indonesian label, English label, and what belongs here.
    pub fn describe(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            Category::Infrastruktur => (
                "infrastruktur",
                "Infrastruktur dan Pekerjaan Umum",
                "Infrastructure and public works",
                "Jalan berlubang, jembatan, drainase, trotoar, penerangan jalan umum",
            ),
            Category::Perhubungan => (
                "perhubungan",
                "Perhubungan dan Transportasi",
                "Transport",
                "Angkutan umum, terminal, parkir, lampu lalu lintas, rambu",
            ),
            Category::Kesehatan => (
                "kesehatan",
                "Kesehatan",
                "Health",
                "Puskesmas, rumah sakit, BPJS Kesehatan, obat, imunisasi",
            ),
            Category::Pendidikan => (
                "pendidikan",
                "Pendidikan",
                "Education",
                "Sekolah, PPDB, guru, beasiswa, pungutan sekolah",
            ),
            Category::LingkunganHidup => (
                "lingkungan_hidup",
                "Lingkungan Hidup dan Kebersihan",
                "Environment and sanitation",
                "Sampah, pencemaran, banjir, pohon tumbang, limbah",
            ),
            Category::AdministrasiKependudukan => (
                "administrasi_kependudukan",
                "Administrasi Kependudukan",
                "Civil registration",
                "KTP-el, Kartu Keluarga, akta kelahiran, pindah domisili",
            ),
            Category::SosialKesejahteraan => (
                "sosial_kesejahteraan",
                "Sosial dan Kesejahteraan",
                "Social welfare",
                "Bantuan sosial, PKH, BLT, penyandang disabilitas, lansia",
            ),
            Category::KetertibanUmum => (
                "ketertiban_umum",
                "Ketertiban Umum",
                "Public order",
                "PKL, bangunan liar, kebisingan, keamanan lingkungan",
            ),
            Category::Utilitas => (
                "utilitas",
                "Air Bersih dan Listrik",
                "Water and electricity",
                "PDAM, air bersih, listrik, gas",
            ),
            Category::PerizinanInvestasi => (
                "perizinan_investasi",
                "Perizinan dan Investasi",
                "Permits and investment",
                "IMB/PBG, izin usaha, OSS",
            ),
            Category::Ketenagakerjaan => (
                "ketenagakerjaan",
                "Ketenagakerjaan",
                "Employment",
                "Upah, PHK, BPJS Ketenagakerjaan, pekerja migran",
            ),
            Category::PajakRetribusi => (
                "pajak_retribusi",
                "Pajak dan Retribusi Daerah",
                "Local taxes and levies",
                "PBB, pajak kendaraan, retribusi pasar",
            ),
            Category::KomunikasiInformatika => (
                "komunikasi_informatika",
                "Komunikasi dan Informatika",
                "Communication and IT",
                "Layanan daring pemerintah, informasi publik, sinyal",
            ),
            Category::Korupsi => (
                "korupsi",
                "Pungutan Liar dan Korupsi",
                "Extortion and corruption",
                "Pungli, suap, gratifikasi, penyalahgunaan wewenang",
            ),
            Category::Lainnya => (
                "lainnya",
                "Lainnya",
                "Other",
                "Yang tidak termasuk kategori lain",
            ),
        }
    }

    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let wanted = input.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|c| c.id() == wanted)
            .ok_or_else(|| {
                Invalid::field(
                    "category",
                    "unknown_category",
                    format!(
                        "Kategori `{}` tidak dikenal. Lihat GET /categories.",
                        input.trim()
                    ),
                    format!(
                        "The category `{}` is not known. See GET /categories.",
                        input.trim()
                    ),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_round_trip_through_serde_and_parse() {
        let mut seen = std::collections::BTreeSet::new();
        for c in Category::ALL {
            assert!(seen.insert(c.id()), "duplicate id {}", c.id());
            assert_eq!(Category::parse(c.id()), Ok(c));
            assert_eq!(serde_json::to_value(c).unwrap(), c.id());
        }
    }

    #[test]
    fn unknown_category_is_named_in_the_error() {
        let err = Category::parse("jalan").unwrap_err();
        assert_eq!(err.code, "unknown_category");
        assert!(err.message.id.contains("jalan"));
    }
}
