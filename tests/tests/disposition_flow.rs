//! Triage and disposition over HTTP through lapor-local, on the embedded store and on DynamoDB:
//! a report with no matching rule waits in central triage, the central admin forwards it, the
//! agency returns it as not its authority, and the timeline names every hop and who made it.

use std::sync::Arc;

use lapor_core::Role;
use lapor_store::{DynamoStore, MemStore, Store, Stores};
use lapor_tests::{eventually, moto_dynamodb, pothole_json, unique_name, LocalServer};
use reqwest::{Client, RequestBuilder};
use serde_json::{json, Value};

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
    fn as_officer(&self, request: RequestBuilder, agency: &str, role: Role) -> RequestBuilder {
        self.officer(request, agency, role)
    }

    async fn report(&self, code: &str, key: &str) -> Value {
        self.send(
            Client::new()
                .get(format!("{}/reports/{code}", self.url))
                .header("x-access-key", key),
        )
        .await
        .1
    }

    /// Waits for the in-process stream consumers to move the report on.
    async fn wait_for(&self, code: &str, key: &str, done: impl Fn(&Value) -> bool) -> Value {
        eventually(
            &format!("report {code} to reach the expected state"),
            async || self.report(code, key).await,
            done,
        )
        .await
    }
}

async fn walk(server: &Server) {
    let http = Client::new();
    // Jawa Tengah has no agencies in the directory: no rule matches.
    let mut body = pothole_json();
    body["region"] = json!("33");
    let (status, receipt) = server
        .send(http.post(format!("{}/reports", server.url)).json(&body))
        .await;
    assert_eq!(status, 201, "{receipt}");
    let code = receipt["tracking_code"].as_str().expect("code").to_string();
    let key = receipt["access_key"].as_str().expect("key").to_string();
    server
        .wait_for(&code, &key, |v| {
            v["timeline"].as_array().is_some_and(|t| t.len() == 2)
        })
        .await;

    // Only the central admin sees triage, and the report is in it.
    let triage = format!("{}/admin/triage", server.url);
    let (status, _) = server.send(http.get(&triage)).await;
    assert_eq!(status, 401);
    let (status, _) = server
        .send(http.get(&triage).bearer_auth("not-a-token"))
        .await;
    assert_eq!(status, 401);
    let (status, _) = server
        .send(server.as_officer(http.get(&triage), "kota-cirebon", Role::AgencyAdmin))
        .await;
    assert_eq!(status, 403);
    let (status, queue) = server
        .send(server.as_officer(http.get(&triage), "kemenpanrb", Role::AdminPusat))
        .await;
    assert_eq!(status, 200);
    let listed = queue["reports"].as_array().expect("reports");
    assert!(
        listed.iter().any(|r| r["tracking_code"] == code.as_str()),
        "{queue}"
    );
    assert!(
        !queue.to_string().contains("Siti"),
        "the queue shows no reporter identity"
    );
    // The classifier reads a pothole in the text; Jawa Tengah has no rule to suggest an agency.
    let queued = listed
        .iter()
        .find(|r| r["tracking_code"] == code.as_str())
        .expect("queued");
    assert_eq!(
        queued["suggestion"]["category"], "infrastruktur",
        "{queued}"
    );
    assert!(queued["suggestion"]["agency"].is_null(), "{queued}");
    let version = queued["version"].as_u64().expect("version");

    // The central admin forwards it to the province; an officer of another agency cannot return it.
    let forward = format!("{}/reports/{code}/forward", server.url);
    let (status, error) = server
        .send(
            server
                .as_officer(http.post(&forward), "kemenpanrb", Role::AdminPusat)
                .json(&json!({"agency": "ombudsman-ri"})),
        )
        .await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (422, Some("not_a_handling_agency"))
    );
    // Decided on an older view of the report: refused, with the report as it is now.
    let (status, error) = server
        .send(
            server
                .as_officer(http.post(&forward), "kemenpanrb", Role::AdminPusat)
                .json(&json!({"agency": "jabar", "version": version - 1})),
        )
        .await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (409, Some("version_conflict")),
        "{error}"
    );
    assert_eq!(error["error"]["current"]["version"], version, "{error}");
    assert_eq!(error["error"]["current"]["status"], "diterima", "{error}");
    let (status, error) = server
        .send(
            server
                .as_officer(http.post(&forward), "kemenpanrb", Role::AdminPusat)
                .json(&json!({"agency": "jabar", "version": "latest"})),
        )
        .await;
    assert_eq!(
        (status, error["error"]["field"].as_str()),
        (400, Some("version"))
    );
    let (status, forwarded) = server
        .send(
            server
                .as_officer(http.post(&forward), "kemenpanrb", Role::AdminPusat)
                .json(&json!({"agency": "jabar", "message": "Lokasi berada di Jawa Barat.", "version": version})),
        )
        .await;
    assert_eq!(status, 200, "{forwarded}");
    assert_eq!(forwarded["status"], "terdisposisi");
    assert_eq!(forwarded["agency"], "jabar");
    let give_back = format!("{}/reports/{code}/return", server.url);
    let reason = json!({"reason": "Ruas jalan ini jalan nasional, kewenangan Kementerian PU."});
    let (status, _) = server
        .send(
            server
                .as_officer(http.post(&give_back), "kota-cirebon", Role::AgencyAdmin)
                .json(&reason),
        )
        .await;
    // Out of the city's reach now: answered as if there were no such report.
    assert_eq!(status, 404);
    let (status, error) = server
        .send(
            server
                .as_officer(http.post(&give_back), "jabar", Role::AgencyAdmin)
                .json(&json!({"reason": "bukan"})),
        )
        .await;
    assert_eq!(
        (status, error["error"]["field"].as_str()),
        (400, Some("reason"))
    );

    // The province returns it: back to central triage.
    let (status, returned) = server
        .send(
            server
                .as_officer(http.post(&give_back), "jabar", Role::AgencyAdmin)
                .json(&reason),
        )
        .await;
    assert_eq!(status, 200, "{returned}");
    assert_eq!(returned["status"], "bukan_wewenang");
    assert_eq!(returned["triage"], true);
    let (status, error) = server
        .send(
            server
                .as_officer(http.post(&give_back), "jabar", Role::AgencyAdmin)
                .json(&reason),
        )
        .await;
    assert_eq!(status, 404, "no longer theirs, so not even there: {error}");

    let view = server.report(&code, &key).await;
    let hops: Vec<(String, String, String, String)> = view["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .map(|e| {
            let text = |k: &str| e[k].as_str().unwrap_or("-").to_string();
            (
                text("kind"),
                text("actor"),
                text("from_agency"),
                text("to_agency"),
            )
        })
        .collect();
    let expected = [
        ("submitted", "reporter", "-", "-"),
        ("triage", "system", "-", "-"),
        ("forwarded", "admin_pusat", "-", "jabar"),
        ("returned", "agency_admin", "jabar", "-"),
    ];
    let expected: Vec<(String, String, String, String)> = expected
        .iter()
        .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()))
        .collect();
    assert_eq!(hops, expected);
    // What lapor-local "sent", as GET /dev/outbox shows it: each hop told once, to the right body,
    // and the reporter's receipt by SMS to a masked number.
    let mut sent = eventually(
        "notify to tell of every hop",
        async || {
            let (_, outbox) = server
                .send(http.get(format!("{}/dev/outbox", server.url)))
                .await;
            outbox["sent"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|m| m["message"]["tracking_code"] == code.as_str() || m["channel"] == "sms")
                .map(|m| match m["channel"].as_str() {
                    Some("sms") => format!("sms {}", m["to"].as_str().unwrap_or("")),
                    _ => format!(
                        "{} {}",
                        m["message"]["event_type"].as_str().unwrap_or(""),
                        m["message"]["agency_id"].as_str().unwrap_or("")
                    ),
                })
                .collect::<Vec<String>>()
        },
        |sent| sent.len() >= 4,
    )
    .await;
    sent.sort();
    assert_eq!(
        sent,
        [
            "report.forwarded jabar",
            "report.returned kemenpanrb",
            "report.triage kemenpanrb",
            "sms ***********890",
        ]
    );
    let returned_event = &view["timeline"][3];
    assert_eq!(returned_event["agency"], "jabar");
    assert!(returned_event["message"]
        .as_str()
        .is_some_and(|m| m.contains("jalan nasional")));
}

#[tokio::test]
async fn triage_forward_and_return_on_the_embedded_store() {
    let server = start(Arc::new(MemStore::new())).await;
    walk(&server).await;
}

#[tokio::test]
async fn triage_forward_and_return_on_dynamodb() {
    let Some((client, _)) = moto_dynamodb().await else {
        return;
    };
    let store = DynamoStore::new(client, unique_name("disposition"));
    store.create_table_if_missing().await.expect("table");
    let server = start(Arc::new(store)).await;
    walk(&server).await;
}
