//! Shared by the benchmark programs behind `scripts/bench`: where results go, and how a set of
//! samples is summarised. Every program writes its numbers as JSON under `target/bench/`; the
//! `report` program turns them into `docs/BENCHMARKS.md`. Nothing here asserts a time.

use std::path::PathBuf;

use serde::Serialize;

/// `target/bench` of the workspace (or `$LAPOR_BENCH_DIR`), created if missing.
pub fn out_dir() -> PathBuf {
    let dir = std::env::var_os("LAPOR_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target").join("bench"));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        panic!("cannot create {}: {e}", dir.display());
    }
    dir
}

/// The workspace root (this crate lives in `bench/`).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Writes `value` as pretty JSON to `target/bench/<name>.json`.
pub fn write_json(name: &str, value: &impl Serialize) {
    let path = out_dir().join(format!("{name}.json"));
    let text = match serde_json::to_string_pretty(value) {
        Ok(text) => text,
        Err(e) => panic!("{name}: {e}"),
    };
    if let Err(e) = std::fs::write(&path, text) {
        panic!("cannot write {}: {e}", path.display());
    }
}

/// A summary of samples (any unit; the caller names it).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct Summary {
    pub n: usize,
    pub min: f64,
    pub median: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    pub mean: f64,
}

impl Summary {
    /// `None` for no samples.
    pub fn of(samples: &[f64]) -> Option<Summary> {
        if samples.is_empty() {
            return None;
        }
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
        Some(Summary {
            n: sorted.len(),
            min: sorted[0],
            median: at(0.5),
            p90: at(0.9),
            p99: at(0.99),
            max: sorted[sorted.len() - 1],
            mean: sorted.iter().sum::<f64>() / sorted.len() as f64,
        })
    }
}

/// Monday 30 November 2026, 09:00 WIB: the fixed "now" of every benchmark.
pub fn monday_morning() -> chrono::DateTime<chrono::Utc> {
    match chrono::DateTime::parse_from_rfc3339("2026-11-30T02:00:00Z") {
        Ok(t) => t.to_utc(),
        Err(e) => panic!("fixed time: {e}"),
    }
}

/// The value, or a panic naming what failed: set-up failures end a benchmark run.
pub fn or_die<T, E: std::fmt::Display>(result: Result<T, E>, what: &str) -> T {
    match result {
        Ok(value) => value,
        Err(e) => panic!("{what}: {e}"),
    }
}

/// A valid Kota Cirebon pothole report, as a citizen would submit it (the tests' `pothole_json`).
pub fn pothole_json() -> serde_json::Value {
    serde_json::json!({
        "type": "pengaduan",
        "title": "Jalan berlubang di Jalan Cipto",
        "description": "Lubang besar di depan pasar sudah dua minggu, membahayakan pengendara motor.",
        "category": "infrastruktur",
        "region": "32.74",
        "location": {"address": "Jl. Dr. Cipto Mangunkusumo, Kota Cirebon", "lat": -6.7153, "lon": 108.5505},
        "privacy": "publik",
        "reporter": {"name": "Siti Aminah", "phone": "0812-3456-7890", "email": "siti.aminah@example.id"}
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_of_one_to_a_hundred() {
        let samples: Vec<f64> = (1..=100).map(f64::from).collect();
        let s = Summary::of(&samples).expect("samples");
        assert_eq!((s.min, s.max, s.n), (1.0, 100.0, 100));
        assert_eq!(s.median, 51.0);
        assert_eq!(s.p90, 90.0);
        assert!(Summary::of(&[]).is_none());
    }
}
