//! The agency loader refuses a bad directory whole, and imports a good one idempotently.

use lapor_admin::{import_agencies, ImportError};
use lapor_core::{AgencyId, Category, Directory, RegionCode};
use lapor_store::{AgencyDirectory, MemStore};
use serde_json::{json, Value};

fn sample() -> Value {
    serde_json::from_str(Directory::bundled_sample()).expect("bundled directory is JSON")
}

async fn imported_anything(store: &MemStore, directory: &Value) -> bool {
    for agency in directory["agencies"].as_array().into_iter().flatten() {
        let id = AgencyId::parse(agency["id"].as_str().unwrap_or("x-invalid")).expect("id");
        if store.agency(&id).await.expect("read").is_some() {
            return true;
        }
    }
    false
}

#[tokio::test]
async fn a_cycle_or_an_unknown_parent_imports_nothing() {
    let mut cycle = sample();
    // Pemprov Jawa Barat under Kota Cirebon, which is under Jawa Barat.
    cycle["agencies"][2]["parent"] = json!("kota-cirebon");
    let mut unknown = sample();
    unknown["agencies"][7]["parent"] = json!("kota-cirebon-dinas-hilang");
    for (name, bad, code) in [
        ("cycle", cycle, "agency_cycle"),
        ("unknown parent", unknown, "unknown_parent"),
    ] {
        let store = MemStore::new();
        match import_agencies(&store, &bad.to_string()).await {
            Err(ImportError::Invalid(e)) => assert_eq!(e.code, code, "{name}"),
            other => panic!("{name}: expected a refusal, got {other:?}"),
        }
        assert!(
            !imported_anything(&store, &bad).await,
            "{name}: something was imported"
        );
        let region = RegionCode::parse("32.74").expect("region");
        assert_eq!(
            store
                .route(&region, Category::Infrastruktur)
                .await
                .expect("route"),
            None
        );
    }
}

#[tokio::test]
async fn importing_twice_gives_the_same_directory() {
    let store = MemStore::new();
    let first = import_agencies(&store, Directory::bundled_sample())
        .await
        .expect("import");
    let second = import_agencies(&store, Directory::bundled_sample())
        .await
        .expect("import again");
    assert_eq!(first, second);
    assert!(first.agencies >= 19 && first.rules > first.agencies);
    let region = RegionCode::parse("32.74").expect("region");
    let dpupr = store
        .route(&region, Category::Infrastruktur)
        .await
        .expect("route");
    assert_eq!(
        dpupr.as_ref().map(AgencyId::as_str),
        Some("kota-cirebon-dpupr")
    );
    // Kabupaten Bogor has no agencies of its own: the province's rule applies.
    let bogor = RegionCode::parse("32.01").expect("region");
    let fallback = store
        .route(&bogor, Category::Kesehatan)
        .await
        .expect("route");
    assert_eq!(fallback.as_ref().map(AgencyId::as_str), Some("jabar"));
}
