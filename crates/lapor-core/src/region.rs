//! Regions by their Kemendagri codes: `32` is a province (Jawa Barat), `32.74` a regency or city
//! (Kota Cirebon). The table is bundled data (`data/regions.json`) so it can grow without code.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::LazyLock;

use chrono::FixedOffset;
use serde::{Deserialize, Serialize};

use crate::error::Invalid;

/// Indonesia's three time zones. None observes daylight saving, so a fixed offset is exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Zone {
    WIB,
    WITA,
    WIT,
}

impl Zone {
    pub fn offset(self) -> FixedOffset {
        let hours = match self {
            Zone::WIB => 7,
            Zone::WITA => 8,
            Zone::WIT => 9,
        };
        FixedOffset::east_opt(hours * 3600).unwrap_or_else(|| unreachable!("offset within a day"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionLevel {
    Provinsi,
    Kabupaten,
    Kota,
}

/// Where a report that names no place waits (with `region_assumed` set, so routing sends it to
/// the central admin's triage): the central admin's own region, DKI Jakarta.
pub const ASSUMED_REGION: &str = "31";

/// A region code known to the bundled table.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RegionCode(String);

impl RegionCode {
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let code = input.trim();
        if !is_well_formed(code) {
            return Err(Invalid::field(
                "region",
                "invalid_region",
                "Kode wilayah harus berbentuk kode Kemendagri, misalnya `32` atau `32.74`.",
                "The region must be a Kemendagri code such as `32` or `32.74`.",
            ));
        }
        if !REGIONS.by_code.contains_key(code) {
            return Err(Invalid::field(
                "region",
                "unknown_region",
                format!("Kode wilayah `{code}` tidak dikenal. Lihat GET /regions."),
                format!("The region code `{code}` is not known. See GET /regions."),
            ));
        }
        Ok(Self(code.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn region(&self) -> &'static Region {
        // A RegionCode is only ever built from a code found in the table.
        &REGIONS.by_code[self.0.as_str()]
    }

    /// The province this region belongs to (itself for a province).
    pub fn province(&self) -> RegionCode {
        RegionCode(self.0[..2].to_string())
    }

    /// The region one level up, if any: `32.74` → `32`.
    pub fn parent(&self) -> Option<RegionCode> {
        (self.0.len() > 2).then(|| self.province())
    }

    pub fn zone(&self) -> Zone {
        self.region().zone
    }
}

fn is_well_formed(code: &str) -> bool {
    let b = code.as_bytes();
    match b.len() {
        2 => b.iter().all(u8::is_ascii_digit),
        5 => {
            b[..2].iter().all(u8::is_ascii_digit)
                && b[2] == b'.'
                && b[3..].iter().all(u8::is_ascii_digit)
        }
        _ => false,
    }
}

impl TryFrom<String> for RegionCode {
    type Error = Invalid;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<RegionCode> for String {
    fn from(code: RegionCode) -> Self {
        code.0
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Region {
    pub code: String,
    pub name: String,
    pub level: RegionLevel,
    pub zone: Zone,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

impl Region {
    /// Every region in the bundled table, provinces first, in code order.
    pub fn all() -> &'static [Region] {
        &REGIONS.list
    }
}

#[derive(Deserialize)]
struct RegionFile {
    provinces: Vec<ProvinceRow>,
    regencies: Vec<RegencyRow>,
}

#[derive(Deserialize)]
struct ProvinceRow {
    code: String,
    name: String,
    zone: Zone,
}

#[derive(Deserialize)]
struct RegencyRow {
    code: String,
    name: String,
}

struct RegionTable {
    list: Vec<Region>,
    by_code: BTreeMap<String, Region>,
}

static REGIONS: LazyLock<RegionTable> = LazyLock::new(|| {
    load_table(include_str!("../data/regions.json"))
        .unwrap_or_else(|e| panic!("bundled data/regions.json is invalid: {e}"))
});

fn load_table(json: &str) -> Result<RegionTable, String> {
    let file: RegionFile = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let mut by_code = BTreeMap::new();
    for p in file.provinces {
        if p.code.len() != 2 || !is_well_formed(&p.code) {
            return Err(format!("bad province code {}", p.code));
        }
        let region = Region {
            code: p.code.clone(),
            name: p.name,
            level: RegionLevel::Provinsi,
            zone: p.zone,
            parent: None,
        };
        if by_code.insert(p.code.clone(), region).is_some() {
            return Err(format!("duplicate code {}", p.code));
        }
    }
    for r in file.regencies {
        if r.code.len() != 5 || !is_well_formed(&r.code) {
            return Err(format!("bad regency code {}", r.code));
        }
        let province = &r.code[..2];
        let zone = by_code
            .get(province)
            .map(|p: &Region| p.zone)
            .ok_or_else(|| format!("{} has no province {province}", r.code))?;
        let level = if r.code[3..] >= *"71" {
            RegionLevel::Kota
        } else {
            RegionLevel::Kabupaten
        };
        let region = Region {
            code: r.code.clone(),
            name: r.name,
            level,
            zone,
            parent: Some(province.to_string()),
        };
        if by_code.insert(r.code.clone(), region).is_some() {
            return Err(format!("duplicate code {}", r.code));
        }
    }
    let list = by_code.values().cloned().collect();
    Ok(RegionTable { list, by_code })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_all_38_provinces_and_27_regions_of_jawa_barat() {
        let all = Region::all();
        let provinces = all
            .iter()
            .filter(|r| r.level == RegionLevel::Provinsi)
            .count();
        let jabar = all
            .iter()
            .filter(|r| r.parent.as_deref() == Some("32"))
            .count();
        assert_eq!(provinces, 38);
        assert_eq!(jabar, 27);
    }

    #[test]
    fn kota_cirebon_is_a_city_of_jawa_barat_in_wib() {
        let code = RegionCode::parse("32.74").unwrap();
        assert_eq!(code.region().name, "Kota Cirebon");
        assert_eq!(code.region().level, RegionLevel::Kota);
        assert_eq!(code.parent(), Some(RegionCode::parse("32").unwrap()));
        assert_eq!(code.zone(), Zone::WIB);
        assert_eq!(
            RegionCode::parse("32.09").unwrap().region().level,
            RegionLevel::Kabupaten
        );
    }

    #[test]
    fn zones_follow_the_provinces() {
        assert_eq!(RegionCode::parse("51").unwrap().zone(), Zone::WITA);
        assert_eq!(RegionCode::parse("96").unwrap().zone(), Zone::WIT);
        assert_eq!(RegionCode::parse("61").unwrap().zone(), Zone::WIB);
        assert_eq!(RegionCode::parse("64").unwrap().zone(), Zone::WITA);
    }

    #[test]
    fn rejects_malformed_and_unknown_codes() {
        for bad in ["", "3", "327", "32-74", "32.7", "ab", "32.7x", "32.74.01"] {
            assert_eq!(
                RegionCode::parse(bad).unwrap_err().code,
                "invalid_region",
                "{bad}"
            );
        }
        for unknown in ["99", "10", "33.01"] {
            assert_eq!(
                RegionCode::parse(unknown).unwrap_err().code,
                "unknown_region",
                "{unknown}"
            );
        }
    }

    #[test]
    fn loader_rejects_a_regency_without_its_province() {
        let json = r#"{"provinces": [], "regencies": [{"code": "32.74", "name": "Kota Cirebon"}]}"#;
        assert!(load_table(json).is_err());
    }
}
