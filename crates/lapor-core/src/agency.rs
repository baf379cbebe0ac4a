//! The agency directory: ministries, provinces, regencies and cities, and their departments
//! (dinas), each with the region it serves and the categories it handles. Routing rules are
//! derived from it, so the directory is the single place an operator edits.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::category::Category;
use crate::error::Invalid;
use crate::region::RegionCode;

/// A stable, URL-safe agency id such as `kota-cirebon-dpupr`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AgencyId(String);

impl AgencyId {
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let id = input.trim();
        let ok = (2..=64).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !id.starts_with('-')
            && !id.ends_with('-');
        if !ok {
            return Err(Invalid::field(
                "agency",
                "invalid_agency_id",
                "Kode instansi harus 2–64 huruf kecil, angka atau tanda hubung.",
                "An agency id has 2–64 lowercase letters, digits or hyphens.",
            ));
        }
        Ok(Self(id.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AgencyId {
    type Error = Invalid;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<AgencyId> for String {
    fn from(id: AgencyId) -> Self {
        id.0
    }
}

impl fmt::Display for AgencyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgencyLevel {
    Kementerian,
    Lembaga,
    Provinsi,
    Kabupaten,
    Kota,
    /// A department of a regional government.
    Dinas,
}

/// Where notifications for an agency go (SNS subscription targets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "target")]
pub enum AgencyContact {
    Email(String),
    Sms(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agency {
    pub id: AgencyId,
    pub name: String,
    pub level: AgencyLevel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<AgencyId>,
    /// The region it serves; national bodies serve all of Indonesia and have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<RegionCode>,
    #[serde(default)]
    pub categories: Vec<Category>,
    #[serde(default)]
    pub contacts: Vec<AgencyContact>,
    /// The central admin's own body: where reports wait for verification (triage).
    #[serde(default)]
    pub central: bool,
    /// External oversight (Ombudsman RI): copied on escalations, never assigned reports.
    #[serde(default)]
    pub oversight: bool,
}

impl Agency {
    /// Whether reports may be assigned to it: neither the central admin's body nor oversight.
    pub fn handles_reports(&self) -> bool {
        !self.central && !self.oversight
    }
}

/// Where a routing rule applies: a region, or the whole country.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    Region(RegionCode),
    National,
}

impl Scope {
    pub fn key(&self) -> &str {
        match self {
            Scope::Region(r) => r.as_str(),
            Scope::National => "ID",
        }
    }

    /// Most specific first: regency/city, then province, then national.
    pub fn fallbacks(region: &RegionCode) -> Vec<Scope> {
        let mut scopes = vec![Scope::Region(region.clone())];
        if let Some(parent) = region.parent() {
            scopes.push(Scope::Region(parent));
        }
        scopes.push(Scope::National);
        scopes
    }
}

/// A checked directory: ids unique, parents known, no cycles, regions real.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directory {
    agencies: BTreeMap<AgencyId, Agency>,
}

#[derive(Deserialize)]
struct DirectoryFile {
    agencies: Vec<serde_json::Value>,
}

impl Directory {
    /// Reads and checks a directory file (`{"agencies": [...]}`). Any problem rejects the whole
    /// file, with the agency it concerns named in the error.
    pub fn parse(json: &str) -> Result<Self, Invalid> {
        let file: DirectoryFile = serde_json::from_str(json).map_err(|e| {
            Invalid::field(
                "agencies",
                "malformed_directory",
                format!("Berkas direktori instansi tidak valid: {e}"),
                format!("The agency directory file is not valid: {e}"),
            )
        })?;
        let mut agencies = BTreeMap::new();
        for (i, raw) in file.agencies.into_iter().enumerate() {
            let agency: Agency = serde_json::from_value(raw).map_err(|e| {
                Invalid::field(
                    format!("agencies[{i}]"),
                    "invalid_agency",
                    format!("Instansi ke-{} tidak valid: {e}", i + 1),
                    format!("Agency number {} is not valid: {e}", i + 1),
                )
            })?;
            if agencies.contains_key(&agency.id) {
                return Err(problem(
                    &agency.id,
                    "duplicate_agency",
                    "muncul lebih dari sekali",
                    "appears more than once",
                ));
            }
            agencies.insert(agency.id.clone(), agency);
        }
        let directory = Self { agencies };
        directory.check()?;
        Ok(directory)
    }

    fn check(&self) -> Result<(), Invalid> {
        for agency in self.agencies.values() {
            if let Some(parent) = &agency.parent {
                if !self.agencies.contains_key(parent) {
                    return Err(problem(
                        &agency.id,
                        "unknown_parent",
                        &format!("menyebut induk `{parent}` yang tidak ada"),
                        &format!("names parent `{parent}`, which does not exist"),
                    ));
                }
            }
            if agency.level == AgencyLevel::Dinas && agency.parent.is_none() {
                return Err(problem(
                    &agency.id,
                    "dinas_without_parent",
                    "adalah dinas tanpa induk",
                    "is a department without a parent",
                ));
            }
            self.check_no_cycle(agency)?;
        }
        if self.agencies.values().filter(|a| a.central).count() != 1 {
            return Err(Invalid::field(
                "agencies",
                "central_admin",
                "Direktori harus memuat tepat satu instansi admin pusat (`central: true`).",
                "The directory must have exactly one central admin body (`central: true`).",
            ));
        }
        Ok(())
    }

    fn check_no_cycle(&self, start: &Agency) -> Result<(), Invalid> {
        let mut seen = BTreeSet::new();
        let mut at = start;
        while let Some(parent) = &at.parent {
            if !seen.insert(parent.clone()) || parent == &start.id {
                return Err(problem(
                    &start.id,
                    "agency_cycle",
                    "berada dalam lingkaran induk",
                    "is part of a parent cycle",
                ));
            }
            match self.agencies.get(parent) {
                Some(p) => at = p,
                None => break,
            }
        }
        Ok(())
    }

    pub fn agencies(&self) -> impl Iterator<Item = &Agency> {
        self.agencies.values()
    }

    pub fn get(&self, id: &AgencyId) -> Option<&Agency> {
        self.agencies.get(id)
    }

    pub fn central(&self) -> Option<&Agency> {
        self.agencies.values().find(|a| a.central)
    }

    /// Routing rules, one per (scope, category): the agency serving exactly that region (or the
    /// nation) that handles the category. Where two agencies claim the same pair, the deeper one
    /// (a department over its government) wins, then the smaller id, so the result is stable.
    pub fn rules(&self) -> BTreeMap<(Scope, Category), AgencyId> {
        let mut rules: BTreeMap<(Scope, Category), &Agency> = BTreeMap::new();
        for agency in self.agencies.values().filter(|a| !a.oversight) {
            let scope = agency.region.clone().map_or(Scope::National, Scope::Region);
            for category in &agency.categories {
                let key = (scope.clone(), *category);
                let better = match rules.get(&key) {
                    Some(current) => self.depth(agency) > self.depth(current),
                    None => true,
                };
                if better {
                    rules.insert(key, agency);
                }
            }
        }
        rules.into_iter().map(|(k, a)| (k, a.id.clone())).collect()
    }

    fn depth(&self, agency: &Agency) -> usize {
        std::iter::successors(agency.parent.as_ref(), |p| {
            self.agencies.get(*p).and_then(|a| a.parent.as_ref())
        })
        .count()
    }

    /// Whether `descendant` sits below `ancestor` in the tree.
    pub fn is_below(&self, descendant: &AgencyId, ancestor: &AgencyId) -> bool {
        let mut at = self
            .agencies
            .get(descendant)
            .and_then(|a| a.parent.as_ref());
        while let Some(p) = at {
            if p == ancestor {
                return true;
            }
            at = self.agencies.get(p).and_then(|a| a.parent.as_ref());
        }
        false
    }

    /// The sample directory bundled with Lapor (Jawa Barat, Kota and Kabupaten Cirebon, national bodies).
    pub fn bundled_sample() -> &'static str {
        include_str!("../data/agencies.json")
    }
}

fn problem(id: &AgencyId, code: &'static str, id_text: &str, en_text: &str) -> Invalid {
    Invalid::field(
        format!("agencies.{id}"),
        code,
        format!("Instansi `{id}` {id_text}."),
        format!("Agency `{id}` {en_text}."),
    )
}

/// The roles carried in officers' tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Central admin: verifies and forwards any report, owns triage.
    AdminPusat,
    /// An agency's administrator: forwards to its departments, returns reports.
    AgencyAdmin,
    /// An officer who answers reports assigned to their agency.
    Officer,
}

impl Role {
    pub fn parse(input: &str) -> Option<Role> {
        match input {
            "admin_pusat" => Some(Role::AdminPusat),
            "agency_admin" => Some(Role::AgencyAdmin),
            "officer" => Some(Role::Officer),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::AdminPusat => "admin_pusat",
            Role::AgencyAdmin => "agency_admin",
            Role::Officer => "officer",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(agencies: serde_json::Value) -> Result<Directory, Invalid> {
        Directory::parse(&serde_json::json!({ "agencies": agencies }).to_string())
    }

    fn central() -> serde_json::Value {
        serde_json::json!({"id": "kemenpanrb", "name": "Kementerian PANRB", "level": "kementerian", "central": true})
    }

    #[test]
    fn the_bundled_sample_is_valid_and_routes_cirebon_potholes_to_public_works() {
        let d = Directory::parse(Directory::bundled_sample()).expect("bundled directory");
        let rules = d.rules();
        let cirebon = RegionCode::parse("32.74").expect("region");
        let id = rules
            .get(&(Scope::Region(cirebon), Category::Infrastruktur))
            .expect("rule");
        assert_eq!(id.as_str(), "kota-cirebon-dpupr");
        assert!(d.is_below(id, &AgencyId::parse("kota-cirebon").expect("id")));
        assert!(d.agencies().any(|a| a.oversight));
        assert!(
            d.agencies()
                .filter(|a| a.parent.as_ref().map(AgencyId::as_str) == Some("kota-cirebon"))
                .count()
                >= 6
        );
    }

    #[test]
    fn rejects_unknown_parents_cycles_and_bad_regions() {
        let unknown = dir(
            serde_json::json!([central(), {"id": "dinas-x", "name": "X", "level": "dinas", "parent": "nope"}]),
        );
        assert_eq!(unknown.expect_err("unknown parent").code, "unknown_parent");
        let cycle = dir(serde_json::json!([
            central(),
            {"id": "kota-a", "name": "A", "level": "kota", "parent": "kota-b"},
            {"id": "kota-b", "name": "B", "level": "kota", "parent": "kota-a"}
        ]));
        assert_eq!(cycle.expect_err("cycle").code, "agency_cycle");
        let region = dir(
            serde_json::json!([central(), {"id": "kota-a", "name": "A", "level": "kota", "region": "99.99"}]),
        );
        assert_eq!(region.expect_err("region").code, "invalid_agency");
        let orphan =
            dir(serde_json::json!([central(), {"id": "dinas-y", "name": "Y", "level": "dinas"}]));
        assert_eq!(orphan.expect_err("orphan").code, "dinas_without_parent");
        let dup = dir(serde_json::json!([central(), central()]));
        assert_eq!(dup.expect_err("dup").code, "duplicate_agency");
        let self_parent = dir(
            serde_json::json!([central(), {"id": "kota-a", "name": "A", "level": "kota", "parent": "kota-a"}]),
        );
        assert_eq!(self_parent.expect_err("self").code, "agency_cycle");
    }

    #[test]
    fn fallbacks_go_up_the_region_tree_to_the_nation() {
        let scopes = Scope::fallbacks(&RegionCode::parse("32.74").expect("region"));
        let keys: Vec<&str> = scopes.iter().map(Scope::key).collect();
        assert_eq!(keys, ["32.74", "32", "ID"]);
    }
}
