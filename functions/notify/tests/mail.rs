//! What notify e-mails a reporter, on the embedded store and the local outbox: the receipt (never
//! the access key), each agency answer in its own words, once per change, and nothing for a
//! reporter who gave no address or turned notifications off.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lapor_core::{
    AccessKey, Actor, AgencyId, Channel, Deadlines, FixedClock, Hop, ReportDraft, Status,
};
use lapor_notifier::{Mail, Mailer, NotifyError, Outbox, OutboxEntry, OutboxMail};
use lapor_notify::{notify_change, Deps};
use lapor_store::{MemStore, ReportChange, Reports, Stores};

fn monday_morning() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-30T02:00:00Z")
        .map(|t| t.to_utc())
        .expect("time")
}

fn pepper() -> lapor_core::KeyPepper {
    lapor_core::KeyPepper::new(vec![7; 32]).expect("pepper")
}

fn id(text: &str) -> AgencyId {
    AgencyId::parse(text).expect("agency id")
}

fn deps(store: &Arc<MemStore>, outbox: &Arc<Outbox>, mailer: Arc<dyn Mailer>) -> Deps {
    Deps::new(
        &Stores::of(store.clone()),
        outbox.clone(),
        Arc::new(FixedClock::new(monday_morning())),
        id("kemenpanrb"),
        id("ombudsman-ri"),
        pepper(),
    )
    .with_mailer(mailer)
}

/// Files a Kota Cirebon pothole from `reporter` in `store`: its creation as a change, and the key.
async fn filed(
    store: &Arc<MemStore>,
    privacy: &str,
    reporter: serde_json::Value,
) -> (ReportChange, AccessKey) {
    let json = serde_json::json!({
        "type": "pengaduan", "title": "Jalan berlubang di Jalan Cipto", "category": "infrastruktur",
        "description": "Lubang besar di depan pasar sudah dua minggu.", "region": "32.74",
        "privacy": privacy, "reporter": reporter
    });
    let new = ReportDraft(json.as_object().expect("object"))
        .validate(Channel::Web)
        .expect("valid");
    let filed = lapor_store::file_report(
        store.as_ref(),
        &new,
        None,
        &pepper().into(),
        &Deadlines::indonesia(),
        monday_morning(),
    )
    .await
    .expect("filed");
    let lapor_store::Filed::Created { report, access_key } = filed else {
        panic!("created");
    };
    (
        ReportChange {
            old: None,
            new: Some(*report),
        },
        access_key,
    )
}

fn siti() -> serde_json::Value {
    serde_json::json!({"name": "Siti Aminah", "phone": "0812-3456-7890",
                       "email": "siti.aminah@example.id"})
}

/// Forwards the filed report to public works, then has the agency answer it with `message`,
/// both written to the store as officers would; the answer's change.
async fn answered(store: &Arc<MemStore>, filed: &ReportChange, message: &str) -> ReportChange {
    let report = filed.new.clone().expect("report");
    let now = monday_morning();
    let system = Hop {
        actor: Actor::System,
        by: None,
        message: None,
    };
    let (forwarded, event) = report
        .forward(
            &id("kota-cirebon-dpupr"),
            system,
            now,
            &Deadlines::indonesia(),
        )
        .expect("forward");
    store
        .update_report(&report, &forwarded, &[event])
        .await
        .expect("forwarded");
    let officer = Hop {
        actor: Actor::Officer,
        by: Some(id("kota-cirebon-dpupr")),
        message: Some(message.to_string()),
    };
    let (done, event) = forwarded
        .follow_up(
            Status::Diproses,
            officer,
            None,
            now,
            &Deadlines::indonesia(),
        )
        .expect("follow up");
    store
        .update_report(&forwarded, &done, &[event])
        .await
        .expect("answered");
    ReportChange {
        old: Some(forwarded),
        new: Some(done),
    }
}

fn mails_to_siti(outbox: &Outbox) -> Vec<OutboxMail> {
    outbox
        .mails()
        .into_iter()
        .filter(|m| m.to == "s**********@example.id")
        .collect()
}

#[tokio::test]
async fn the_receipt_mail_has_the_code_and_what_happens_next_in_both_languages_and_never_the_key() {
    let store = Arc::new(MemStore::new());
    let outbox = Arc::new(Outbox::default());
    let deps = deps(&store, &outbox, outbox.clone());
    let (change, key) = filed(&store, "publik", siti()).await;
    let code = change.new.as_ref().expect("report").tracking_code.clone();

    notify_change(&deps, &change).await.expect("notify");
    let mails = mails_to_siti(&outbox);
    assert_eq!(mails.len(), 1, "{mails:?}");
    let mail = &mails[0];
    assert_eq!(
        mail.subject,
        format!("Laporan {code} diterima / Report {code} received")
    );
    let text = &mail.text;
    assert!(
        text.contains(&format!("Kode pelacakan / Tracking code: {code}")),
        "{text}"
    );
    assert!(text.contains("dalam 3 hari kerja") && text.contains("within 3 working days"));
    assert!(text.contains("dalam 5 hari kerja") && text.contains("within 5 working days"));
    assert!(text.contains("Jalan berlubang di Jalan Cipto"), "{text}");
    assert!(
        text.find("Apa selanjutnya") < text.find("What happens next"),
        "Indonesian first: {text}"
    );
    assert!(!text.contains(key.reveal()), "never the access key: {text}");
    assert!(
        !text.contains("siti.aminah"),
        "no address in the text: {text}"
    );
    assert_eq!(
        outbox
            .entries()
            .iter()
            .filter(|e| matches!(e, OutboxEntry::Sms { .. }))
            .count(),
        1,
        "the SMS receipt still goes out"
    );

    // A redelivered record sends nothing again.
    assert_eq!(notify_change(&deps, &change).await.expect("notify"), 0);
    assert_eq!(mails_to_siti(&outbox).len(), 1);
}

#[tokio::test]
async fn a_secret_reports_receipt_leaves_out_the_title() {
    let store = Arc::new(MemStore::new());
    let outbox = Arc::new(Outbox::default());
    let deps = deps(&store, &outbox, outbox.clone());
    let (change, _) = filed(&store, "rahasia", siti()).await;
    notify_change(&deps, &change).await.expect("notify");
    let mails = mails_to_siti(&outbox);
    assert_eq!(mails.len(), 1);
    assert!(
        !mails[0].text.contains("Jalan berlubang"),
        "{}",
        mails[0].text
    );
}

#[tokio::test]
async fn no_mail_without_an_address_with_notifications_off_or_with_e_mail_off() {
    let store = Arc::new(MemStore::new());
    let outbox = Arc::new(Outbox::default());
    let with_mail = deps(&store, &outbox, outbox.clone());
    let phone_only = serde_json::json!({"phone": "0812-3456-7890"});
    let quiet = serde_json::json!({"email": "siti.aminah@example.id", "notifications": false});
    for reporter in [phone_only, quiet] {
        let (change, _) = filed(&store, "publik", reporter).await;
        notify_change(&with_mail, &change).await.expect("notify");
    }
    assert!(outbox.mails().is_empty(), "{:?}", outbox.mails());

    let mail_off = Deps::new(
        &Stores::of(store.clone()),
        outbox.clone(),
        Arc::new(FixedClock::new(monday_morning())),
        id("kemenpanrb"),
        id("ombudsman-ri"),
        pepper(),
    );
    let (change, _) = filed(&store, "publik", siti()).await;
    notify_change(&mail_off, &change).await.expect("notify");
    assert!(outbox.mails().is_empty(), "{:?}", outbox.mails());
}

#[tokio::test]
async fn each_agency_answer_is_mailed_once_in_its_own_words_with_the_new_status() {
    let store = Arc::new(MemStore::new());
    let outbox = Arc::new(Outbox::default());
    let deps = deps(&store, &outbox, outbox.clone());
    let (filed, key) = filed(&store, "publik", siti()).await;
    let code = filed.new.as_ref().expect("report").tracking_code.clone();
    let answer =
        "Tim kami menambal lubang pada Kamis pagi. / Our team patches the hole on Thursday.";
    let change = answered(&store, &filed, answer).await;

    notify_change(&deps, &change).await.expect("notify");
    notify_change(&deps, &change).await.expect("redelivered");
    let mails = mails_to_siti(&outbox);
    assert_eq!(mails.len(), 1, "once, however often delivered: {mails:?}");
    let mail = &mails[0];
    assert_eq!(
        mail.subject,
        format!("Tanggapan baru untuk laporan {code} / New answer on report {code}")
    );
    assert!(mail.text.contains(answer), "{}", mail.text);
    assert!(
        mail.text.contains("Status: sedang diproses / in process"),
        "{}",
        mail.text
    );
    assert!(mail.text.contains("kuning / yellow"), "{}", mail.text);
    assert!(
        mail.text.contains(&format!("BALAS {code}")),
        "{}",
        mail.text
    );
    assert!(!mail.text.contains(key.reveal()));
}

/// Fails the first `failures` mails as SES does when throttled, then sends into the outbox.
struct Throttled {
    failures: AtomicUsize,
    outbox: Arc<Outbox>,
}

#[async_trait]
impl Mailer for Throttled {
    async fn send(&self, mail: &Mail) -> Result<(), NotifyError> {
        let left = self.failures.load(Ordering::SeqCst);
        if left > 0 {
            self.failures.store(left - 1, Ordering::SeqCst);
            return Err(NotifyError(
                "TooManyRequestsException: Maximum sending rate exceeded.".into(),
            ));
        }
        self.outbox.send(mail).await
    }
}

#[tokio::test]
async fn a_failed_mail_fails_the_record_without_holding_back_the_sms_and_goes_out_on_the_retry() {
    let store = Arc::new(MemStore::new());
    let outbox = Arc::new(Outbox::default());
    let throttled = Arc::new(Throttled {
        failures: AtomicUsize::new(1),
        outbox: outbox.clone(),
    });
    let deps = deps(&store, &outbox, throttled);
    let (change, _) = filed(&store, "publik", siti()).await;

    let failed = notify_change(&deps, &change).await;
    assert!(failed.is_err(), "the record is retried");
    let sms = || {
        outbox
            .entries()
            .iter()
            .filter(|e| matches!(e, OutboxEntry::Sms { .. }))
            .count()
    };
    assert_eq!(sms(), 1, "the SMS went out all the same");
    assert!(mails_to_siti(&outbox).is_empty());

    assert_eq!(notify_change(&deps, &change).await.expect("retried"), 1);
    assert_eq!(mails_to_siti(&outbox).len(), 1, "the mail, once");
    assert_eq!(sms(), 1, "and the SMS not again");
}

#[tokio::test]
async fn one_address_gets_at_most_the_daily_cap_of_mails() {
    let store = Arc::new(MemStore::new());
    let outbox = Arc::new(Outbox::default());
    let deps = deps(&store, &outbox, outbox.clone()).with_mail_daily_limit(2);
    for _ in 0..4 {
        let (change, _) = filed(&store, "publik", siti()).await;
        notify_change(&deps, &change).await.expect("notify");
    }
    assert_eq!(mails_to_siti(&outbox).len(), 2);
    // The same mailbox written in capitals shares the count.
    let shouting = serde_json::json!({"email": "SITI.AMINAH@EXAMPLE.ID"});
    let (change, _) = filed(&store, "publik", shouting).await;
    notify_change(&deps, &change).await.expect("notify");
    assert_eq!(outbox.mails().len(), 2, "{:?}", outbox.mails());
}
