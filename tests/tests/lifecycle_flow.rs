//! The red/yellow/green lifecycle over HTTP through lapor-local, on the embedded store and on
//! DynamoDB: routed (grey) → diproses (yellow) → selesai (green) → reopened by the reporter →
//! selesai → rated; each view shows what it should and nothing more; other agencies get 403 on
//! every officer route; statistics follow; concurrent follow-ups never lose one.

use std::sync::Arc;

use chrono::Datelike;
use lapor_core::Role;
use lapor_store::{DynamoStore, MemStore, Store, Stores};
use lapor_tests::{eventually, moto_dynamodb, pothole_json, unique_name, LocalServer};
use serde_json::{json, Value};

const DPUPR: &str = "kota-cirebon-dpupr";

async fn start<S: Store + 'static>(store: Arc<S>) -> Server {
    Server(LocalServer::start(Stores::of(store)).await)
}

struct Server(LocalServer);

impl std::ops::Deref for Server {
    type Target = LocalServer;
    fn deref(&self) -> &LocalServer {
        &self.0
    }
}

impl Server {
    async fn public(&self, code: &str) -> Value {
        self.send(self.http.get(format!("{}/reports/{code}", self.url)))
            .await
            .1
    }

    async fn own(&self, code: &str, key: &str) -> Value {
        self.send(
            self.http
                .get(format!("{}/reports/{code}", self.url))
                .header("x-access-key", key),
        )
        .await
        .1
    }

    async fn agency_view(&self, code: &str) -> (u16, Value) {
        self.send(self.officer(
            self.http.get(format!("{}/agency/reports/{code}", self.url)),
            DPUPR,
            Role::Officer,
        ))
        .await
    }

    async fn submit(&self, body: &Value) -> (String, String) {
        let (status, receipt) = self
            .send(self.http.post(format!("{}/reports", self.url)).json(body))
            .await;
        assert_eq!(status, 201, "{receipt}");
        let code = receipt["tracking_code"].as_str().expect("code").to_string();
        let key = receipt["access_key"].as_str().expect("key").to_string();
        eventually(
            &format!("routing to forward report {code}"),
            async || self.public(&code).await,
            |view| view["status"] == "terdisposisi",
        )
        .await;
        (code, key)
    }

    async fn follow_up(&self, code: &str, status: &str, message: &str) -> (u16, Value) {
        let url = format!("{}/reports/{code}/followups", self.url);
        self.send(
            self.officer(self.http.post(url), DPUPR, Role::Officer)
                .json(&json!({"status": status, "message": message})),
        )
        .await
    }
}

fn kinds(view: &Value) -> Vec<String> {
    view["timeline"]
        .as_array()
        .map(|t| {
            t.iter()
                .filter_map(|e| e["kind"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

async fn walk(server: &Server) {
    let (code, key) = server.submit(&pothole_json()).await;
    // A second report that stays waiting, for the statistics.
    let mut other = pothole_json();
    other["title"] = json!("Trotoar rusak di Jalan Siliwangi");
    let (_waiting, _) = server.submit(&other).await;
    assert_eq!(server.public(&code).await["color"], "grey");

    // The officer's inbox lists it with identity (a public report) and time left.
    let inbox_url = format!("{}/agency/reports?status=terdisposisi", server.url);
    let (status, inbox) = server
        .send(server.officer(server.http.get(&inbox_url), DPUPR, Role::Officer))
        .await;
    assert_eq!(status, 200, "{inbox}");
    let entry = inbox["reports"]
        .as_array()
        .and_then(|r| r.iter().find(|e| e["tracking_code"] == code.as_str()))
        .expect("listed");
    assert_eq!(entry["reporter"]["name"], "Siti Aminah");
    // Five working days, moved to the next opening when they end outside office hours.
    assert!(
        entry["working_days_left"]
            .as_i64()
            .is_some_and(|d| (4..=6).contains(&d)),
        "{entry}"
    );
    // The city government's admin supervises its departments.
    let (_, city) = server
        .send(server.officer(
            server.http.get(format!("{}/agency/reports", server.url)),
            "kota-cirebon",
            Role::AgencyAdmin,
        ))
        .await;
    assert!(city["reports"]
        .as_array()
        .is_some_and(|r| r.iter().any(|e| e["tracking_code"] == code.as_str())));

    // Another agency's officer is refused on every route for this report, with the very answer a
    // code that does not exist gets: no way to learn that the report exists.
    let other_agency = "kota-cirebon-dishub";
    let absent = lapor_core::TrackingCode::generate(&mut rand::rng());
    let absent = absent.as_str();
    let routes = |code: &str| {
        [
            server
                .http
                .get(format!("{}/agency/reports/{code}", server.url)),
            server
                .http
                .post(format!("{}/reports/{code}/followups", server.url))
                .json(&json!({"status": "diproses", "message": "x"})),
            server
                .http
                .post(format!("{}/reports/{code}/return", server.url))
                .json(&json!({"reason": "bukan wewenang kami sama sekali"})),
            server
                .http
                .post(format!("{}/reports/{code}/forward", server.url))
                .json(&json!({"agency": "kota-cirebon-dinkes"})),
        ]
    };
    for (existing, missing) in routes(code.as_str()).into_iter().zip(routes(absent)) {
        let (status, body) = server
            .send(server.officer(existing, other_agency, Role::Officer))
            .await;
        let (missing_status, missing_body) = server
            .send(server.officer(missing, other_agency, Role::Officer))
            .await;
        assert_eq!(status, 404, "{body}");
        assert_eq!((status, &body), (missing_status, &missing_body));
    }
    let (_, others) = server
        .send(server.officer(
            server.http.get(format!("{}/agency/reports", server.url)),
            other_agency,
            Role::Officer,
        ))
        .await;
    assert!(!others.to_string().contains(&code));

    // diproses (yellow) → selesai (green).
    let (status, body) = server
        .follow_up(
            &code,
            "diproses",
            "Tim sudah meninjau lokasi; penambalan dijadwalkan Kamis.",
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(server.public(&code).await["color"], "yellow");
    let (status, illegal) = server.follow_up(&code, "terdisposisi", "x").await;
    assert_eq!(status, 400, "{illegal}");
    let (status, _) = server
        .follow_up(&code, "selesai", "Lubang sudah ditambal aspal pada Kamis.")
        .await;
    assert_eq!(status, 200);
    assert_eq!(server.public(&code).await["color"], "green");

    // The reporter: a wrong key is a 404; the right one reopens.
    let replies = format!("{}/reports/{code}/replies", server.url);
    let not_solved = json!({"message": "Sisi kiri jalan masih berlubang.", "not_solved": true});
    let (status, _) = server
        .send(
            server
                .http
                .post(&replies)
                .header("x-access-key", "salah")
                .json(&not_solved),
        )
        .await;
    assert_eq!(status, 404);
    let (status, reopened) = server
        .send(
            server
                .http
                .post(&replies)
                .header("x-access-key", &key)
                .json(&not_solved),
        )
        .await;
    assert_eq!(status, 200, "{reopened}");
    assert_eq!(reopened["status"], "diproses");
    assert_eq!(server.public(&code).await["color"], "yellow");
    let rating_url = format!("{}/reports/{code}/rating", server.url);
    let (status, early) = server
        .send(
            server
                .http
                .post(&rating_url)
                .header("x-access-key", &key)
                .json(&json!({"stars": 4})),
        )
        .await;
    assert_eq!(
        (status, early["error"]["code"].as_str()),
        (409, Some("not_done_yet"))
    );

    let (status, _) = server
        .follow_up(&code, "selesai", "Sisi kiri juga sudah ditambal.")
        .await;
    assert_eq!(status, 200);
    let (status, rated) = server
        .send(
            server
                .http
                .post(&rating_url)
                .header("x-access-key", &key)
                .json(&json!({"stars": 5, "comment": "Cepat, terima kasih."})),
        )
        .await;
    assert_eq!(status, 200, "{rated}");
    let (status, again) = server
        .send(
            server
                .http
                .post(&rating_url)
                .header("x-access-key", &key)
                .json(&json!({"stars": 1})),
        )
        .await;
    assert_eq!(
        (status, again["error"]["code"].as_str()),
        (409, Some("already_rated"))
    );

    // Each view shows what it should and nothing more.
    let public = server.public(&code).await;
    let public_text = public.to_string();
    assert_eq!(
        kinds(&public),
        [
            "submitted",
            "forwarded",
            "follow_up",
            "follow_up",
            "follow_up"
        ]
    );
    for hidden in [
        "Siti",
        "3456",
        "Sisi kiri jalan masih berlubang",
        "Cepat, terima kasih",
        "rating",
    ] {
        assert!(!public_text.contains(hidden), "public view shows {hidden}");
    }
    let own = server.own(&code, &key).await;
    assert_eq!(
        kinds(&own),
        [
            "submitted",
            "forwarded",
            "follow_up",
            "follow_up",
            "reply",
            "follow_up",
            "rating"
        ]
    );
    assert_eq!(own["reporter"]["name"], "Siti Aminah");
    assert_eq!(own["rating"]["stars"], 5);
    let (status, agency) = server.agency_view(&code).await;
    assert_eq!(status, 200);
    assert_eq!(kinds(&agency), kinds(&own));
    assert_eq!(
        agency["reporter"]["name"], "Siti Aminah",
        "public report: the agency may contact the reporter"
    );
    assert!(agency.get("access_key_hash").is_none());

    // The reporter heard of every answer by SMS and by e-mail; the agency of the reply and the
    // rating. Notify runs in-process after each write: wait until it has told of the last one.
    let outbox = eventually(
        "notify to tell the agency of the rating",
        async || {
            server
                .send(server.http.get(format!("{}/dev/outbox", server.url)))
                .await
                .1
        },
        |outbox| {
            outbox["sent"].as_array().is_some_and(|sent| {
                sent.iter().any(|m| {
                    m["message"]["tracking_code"] == code.as_str()
                        && m["message"]["event_type"] == "report.rating"
                })
            })
        },
    )
    .await;
    let mails: Vec<String> = outbox["mail"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|m| m["subject"].as_str().map(String::from))
        .filter(|subject| subject.contains(code.as_str()))
        .collect();
    let answered = format!("Tanggapan baru untuk laporan {code} / New answer on report {code}");
    assert_eq!(
        mails,
        [
            format!("Laporan {code} diterima / Report {code} received"),
            answered.clone(),
            answered.clone(),
            answered,
        ],
        "the receipt and one e-mail per agency answer"
    );
    let sent = outbox["sent"].as_array().cloned().unwrap_or_default();
    let answers = sent
        .iter()
        .filter_map(|m| m["text"].as_str().filter(|_| m["channel"] == "sms"))
        .filter(|t| t.contains(&format!("{code}: status")))
        .collect::<Vec<_>>();
    assert_eq!(
        answers,
        [
            format!("LAPOR! {code}: status DIPROSES (kuning). Lihat tanggapan instansi: kirim CEK {code} ke 1708."),
            format!("LAPOR! {code}: status SELESAI (hijau). Lihat tanggapan instansi: kirim CEK {code} ke 1708."),
            format!("LAPOR! {code}: status SELESAI (hijau). Lihat tanggapan instansi: kirim CEK {code} ke 1708."),
        ],
        "one SMS per agency answer, none for the reporter's own reply: {sent:#?}"
    );
    let to_agency: Vec<&str> = sent
        .iter()
        .filter(|m| {
            m["message"]["tracking_code"] == code.as_str() && m["message"]["agency_id"] == DPUPR
        })
        .filter_map(|m| m["message"]["event_type"].as_str())
        .collect();
    assert_eq!(
        to_agency,
        ["report.forwarded", "report.reply", "report.rating"]
    );

    // Statistics for Kota Cirebon and Jawa Barat this year: one green, one grey.
    let year = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(7 * 3600).expect("WIB"))
        .year();
    for region in ["32.74", "32"] {
        let url = format!(
            "{}/stats?region={region}&year={year}&group_by=agency",
            server.url
        );
        let (status, stats) = server.send(server.http.get(url)).await;
        assert_eq!(status, 200, "{stats}");
        assert_eq!(stats["totals"]["total"], 2, "{stats}");
        assert_eq!(
            stats["totals"]["colors"],
            json!({"green": 1, "grey": 1}),
            "{stats}"
        );
        let dpupr = stats["rows"]
            .as_array()
            .and_then(|r| r.iter().find(|row| row["key"] == DPUPR))
            .expect("dpupr row");
        assert_eq!(dpupr["followed_up"], 1);
        assert_eq!(dpupr["on_time"], 1);
    }
    let (status, bad) = server
        .send(
            server
                .http
                .get(format!("{}/stats?region=32.74&group_by=dinas", server.url)),
        )
        .await;
    assert_eq!(
        (status, bad["error"]["field"].as_str()),
        (400, Some("group_by"))
    );
}

#[tokio::test]
async fn lifecycle_on_the_embedded_store() {
    walk(&start(Arc::new(MemStore::new())).await).await;
}

#[tokio::test]
async fn lifecycle_on_dynamodb() {
    let Some((client, _)) = moto_dynamodb().await else {
        return;
    };
    let store = DynamoStore::new(client, unique_name("lifecycle"));
    store.create_table_if_missing().await.expect("table");
    walk(&start(Arc::new(store)).await).await;
}

#[tokio::test]
async fn twenty_concurrent_follow_ups_lose_none() {
    let Some((client, _)) = moto_dynamodb().await else {
        return;
    };
    let store = DynamoStore::new(client, unique_name("concurrent"));
    store.create_table_if_missing().await.expect("table");
    let server = Arc::new(start(Arc::new(store)).await);
    let (code, _) = server.submit(&pothole_json()).await;
    let tasks: Vec<_> = (0..20)
        .map(|n| {
            let (server, code) = (server.clone(), code.clone());
            tokio::spawn(async move {
                server
                    .follow_up(&code, "diproses", &format!("Tindak lanjut ke-{n}."))
                    .await
            })
        })
        .collect();
    let mut accepted = 0;
    for task in tasks {
        let (status, body) = task.await.expect("task");
        match status {
            200 => accepted += 1,
            409 => assert_eq!(body["error"]["code"], "version_conflict", "{body}"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert!(accepted >= 1);
    let (_, view) = server.agency_view(&code).await;
    let follow_ups = kinds(&view).iter().filter(|k| *k == "follow_up").count();
    assert_eq!(
        follow_ups, accepted,
        "every accepted follow-up is on the timeline, no other"
    );
    // Submitted (1) and forwarded (2), then one version per accepted follow-up.
    assert_eq!(view["version"], 2 + accepted as u64);
}
