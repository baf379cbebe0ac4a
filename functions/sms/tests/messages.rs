//! What the sms function does with each kind of text a citizen sends, on the embedded store: the
//! action, the reply, and whether a report was made — for valid, messy and hostile messages.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use lapor_core::sms::{segments, MAX_REPLY_SEGMENTS};
use lapor_core::{Deadlines, Directory, FixedClock, KeyPepper, Privacy, TrackingCode};
use lapor_notifier::{Outbox, OutboxEntry};
use lapor_sms::{handle_inbound, Action, Deps, InboundSms};
use lapor_store::{AgencyDirectory, MemStore, Reports, Stores};

const REPORTER: &str = "+6281234567890";
const STRANGER: &str = "+6285712345678";

/// Monday 30 November 2026, 09:00 WIB.
fn monday_morning() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-30T02:00:00Z")
        .map(|t| t.to_utc())
        .expect("time")
}

struct Phone1708 {
    deps: Deps,
    store: Arc<MemStore>,
    outbox: Arc<Outbox>,
    sent: usize,
}

impl Phone1708 {
    async fn new(hourly_limit: u64) -> Self {
        let store = Arc::new(MemStore::new());
        let directory = Directory::parse(Directory::bundled_sample()).expect("directory");
        store.put_directory(&directory).await.expect("directory");
        let outbox = Arc::new(Outbox::default());
        let deps = Deps::new(
            &Stores::of(store.clone()),
            outbox.clone(),
            Arc::new(FixedClock::new(monday_morning())),
            Deadlines::indonesia(),
            KeyPepper::new(vec![9; 32]).expect("pepper"),
            hourly_limit,
        );
        Self {
            deps,
            store,
            outbox,
            sent: 0,
        }
    }

    async fn text_with_id(&mut self, from: &str, body: &str, id: &str) -> (Action, Option<String>) {
        let inbound = InboundSms {
            origination_number: from.into(),
            destination_number: "+621708".into(),
            message_body: body.into(),
            inbound_message_id: id.into(),
        };
        let handled = handle_inbound(&self.deps, &inbound).await.expect("handled");
        (handled.action, handled.reply)
    }

    async fn text(&mut self, from: &str, body: &str) -> (Action, Option<String>) {
        self.sent += 1;
        let id = format!("msg-{}", self.sent);
        self.text_with_id(from, body, &id).await
    }

    fn sms_count(&self) -> usize {
        self.outbox
            .entries()
            .iter()
            .filter(|e| matches!(e, OutboxEntry::Sms { .. }))
            .count()
    }
}

fn created(action: &Action) -> TrackingCode {
    match action {
        Action::Created(code) => code.clone(),
        other => panic!("expected a new report, got {other:?}"),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Created,
    Checked,
    Replied,
    Help,
    Refused,
}

#[tokio::test]
async fn each_message_gets_the_expected_action_and_reply_and_nothing_more() {
    let mut phone = Phone1708::new(1_000).await;
    // Two reports of the reporter's own to check and answer: one public, one rahasia.
    let (action, _) = phone
        .text(
            REPORTER,
            "LAPOR Jalan berlubang besar di Jl. Cipto, Kota Cirebon, sudah dua minggu",
        )
        .await;
    let public = created(&action);
    let (action, _) = phone
        .text(
            REPORTER,
            "RAHASIA pungutan liar di kantor kelurahan Kota Cirebon oleh oknum petugas",
        )
        .await;
    let secret = created(&action);
    let stored = phone
        .store
        .report(&secret)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(stored.privacy, Privacy::Rahasia);
    let unknown = loop {
        let code = TrackingCode::generate(&mut rand::rng());
        if code != public && code != secret {
            break code;
        }
    };
    let long = format!("LAPOR {}", "Jalan rusak parah di Kota Cirebon. ".repeat(46));
    assert!(long.chars().count() >= 1_600);

    use Expect::*;
    let cases: Vec<(&str, String, Expect, &str)> = vec![
        // Valid reports.
        (
            REPORTER,
            "LAPOR Sampah menumpuk di pasar Kota Cirebon sejak seminggu".into(),
            Created,
            "CEK ",
        ),
        (
            REPORTER,
            "lapor   jalan rusak parah di kabupaten indramayu dekat pasar".into(),
            Created,
            "CEK ",
        ),
        (
            REPORTER,
            "Lapor: lampu jalan mati di Kab. Cirebon, gelap dan rawan".into(),
            Created,
            "CEK ",
        ),
        (
            REPORTER,
            "Sampah tidak diangkut dua minggu di depan SD Kota Cirebon".into(),
            Created,
            "CEK ",
        ),
        (
            REPORTER,
            "laporan jalan rusak di cirebon sudah lama tidak diperbaiki".into(),
            Created,
            "CEK ",
        ),
        (
            REPORTER,
            "LAPOR RAHASIA: pungli pembuatan KTP di kecamatan, Kab. Cirebon".into(),
            Created,
            "CEK ",
        ),
        (
            REPORTER,
            "LAPOR lampu jalan mati sepanjang jalan utama, gelap sekali".into(),
            Created,
            "Sebutkan kota",
        ),
        (
            REPORTER,
            "LAPOR 😡 jalan berlubang di Kota Cirebon bikin motor jatuh 😭".into(),
            Created,
            "CEK ",
        ),
        (REPORTER, long, Created, "CEK "),
        (
            STRANGER,
            "  LAPOR    air PDAM   mati tiga hari di Kota Cirebon  ".into(),
            Created,
            "CEK ",
        ),
        (
            REPORTER,
            "bantuan sosial PKH belum cair tiga bulan di Kabupaten Indramayu".into(),
            Created,
            "CEK ",
        ),
        // Status checks.
        (STRANGER, format!("CEK {public}"), Checked, public.as_str()),
        (
            STRANGER,
            format!("cek {}", public.as_str().to_lowercase()),
            Checked,
            "DITERIMA",
        ),
        (STRANGER, format!("  Cek:  {public}. "), Checked, "abu-abu"),
        (REPORTER, format!("CEK {secret}"), Checked, secret.as_str()),
        (
            STRANGER,
            format!("CEK {secret}"),
            Refused,
            "tidak ditemukan",
        ),
        (
            STRANGER,
            format!("CEK {unknown}"),
            Refused,
            "tidak ditemukan",
        ),
        (STRANGER, "CEK".into(), Refused, "CEK <kode>"),
        (STRANGER, "CEK 12345".into(), Refused, "tidak dikenal"),
        (STRANGER, "cek ZZZZZZZZZZ".into(), Refused, "tidak dikenal"),
        // Replies.
        (
            REPORTER,
            format!("BALAS {public} Terima kasih, mohon segera ditambal"),
            Replied,
            "diterima",
        ),
        (
            REPORTER,
            format!("balas {public}   lubangnya makin besar"),
            Replied,
            "diterima",
        ),
        (
            STRANGER,
            format!("BALAS {public} saya bukan pelapornya"),
            Refused,
            "tidak ditemukan",
        ),
        (
            REPORTER,
            format!("BALAS {public}"),
            Refused,
            "BALAS <kode> <pesan>",
        ),
        (REPORTER, "BALAS".into(), Refused, "BALAS <kode> <pesan>"),
        (REPORTER, "BALAS ABC halo".into(), Refused, "tidak dikenal"),
        (
            REPORTER,
            format!("BALAS {unknown} halo apa kabar"),
            Refused,
            "tidak ditemukan",
        ),
        // Help.
        (STRANGER, "BANTUAN".into(), Help, "CEK <kode>"),
        (STRANGER, "help".into(), Help, "CEK <kode>"),
        (STRANGER, "  bantuan!!! ".into(), Help, "BALAS <kode>"),
        (STRANGER, "?".into(), Help, "LAPOR"),
        // Messy, empty and hostile: nothing made, a short help.
        (STRANGER, String::new(), Refused, "BANTUAN"),
        (STRANGER, "     ".into(), Refused, "BANTUAN"),
        (STRANGER, "!!!...,,,".into(), Refused, "BANTUAN"),
        (STRANGER, "😡😡😡".into(), Refused, "BANTUAN"),
        (STRANGER, "LAPOR".into(), Refused, "LAPOR <keluhan"),
        (
            STRANGER,
            "LAPOR jalan rusak".into(),
            Refused,
            "terlalu singkat",
        ),
        (
            STRANGER,
            "\u{0}\u{0}LAPOR\u{0} jalan".into(),
            Refused,
            "terlalu singkat",
        ),
        (STRANGER, "'; DROP".into(), Refused, "terlalu singkat"),
        (STRANGER, "RAHASIA".into(), Refused, "BANTUAN"),
    ];
    assert!(cases.len() >= 30);
    for (from, body, expect, needle) in cases {
        let before = phone.store.report_count();
        let sms_before = phone.sms_count();
        let (action, reply) = phone.text(from, &body).await;
        let shown: String = body.chars().take(60).collect();
        let got = match &action {
            Action::Created(_) => Created,
            Action::Checked => Checked,
            Action::Replied => Replied,
            Action::Help => Help,
            Action::Refused => Refused,
            other => panic!("{shown:?}: unexpected {other:?}"),
        };
        assert_eq!(got, expect, "{shown:?} → {action:?} {reply:?}");
        let made = phone.store.report_count() - before;
        assert_eq!(
            made,
            usize::from(expect == Created),
            "{shown:?}: reports made"
        );
        let reply = reply.unwrap_or_else(|| panic!("{shown:?}: no reply"));
        assert!(
            reply.contains(needle),
            "{shown:?}: {reply:?} lacks {needle:?}"
        );
        assert!(
            segments(&reply) <= MAX_REPLY_SEGMENTS,
            "{shown:?}: {reply:?}"
        );
        for number in [REPORTER, STRANGER] {
            assert!(
                !reply.contains(&number[3..]),
                "{shown:?}: a number in {reply:?}"
            );
        }
        assert_eq!(
            phone.sms_count(),
            sms_before + 1,
            "{shown:?}: one reply SMS"
        );
    }
}

#[tokio::test]
async fn the_same_message_delivered_twice_makes_one_report_and_one_reply() {
    let mut phone = Phone1708::new(1_000).await;
    let body = "LAPOR Jalan berlubang di Jl. Cipto, Kota Cirebon, sudah dua minggu";
    let (first, reply) = phone.text_with_id(REPORTER, body, "same-id").await;
    let code = created(&first);
    assert!(reply.is_some_and(|r| r.contains(code.as_str())));
    let (second, reply) = phone.text_with_id(REPORTER, body, "same-id").await;
    assert_eq!((second, reply), (Action::Duplicate, None));
    assert_eq!(phone.store.report_count(), 1);
    assert_eq!(phone.sms_count(), 1);

    let answer = format!("BALAS {code} lubangnya makin besar");
    phone.text_with_id(REPORTER, &answer, "reply-id").await;
    let (again, _) = phone.text_with_id(REPORTER, &answer, "reply-id").await;
    assert_eq!(again, Action::Duplicate);
    let full = phone
        .store
        .report_with_timeline(&code)
        .await
        .expect("read")
        .expect("exists");
    let replies = full
        .timeline
        .iter()
        .filter(|e| e.kind == lapor_core::EventKind::Reply)
        .count();
    assert_eq!(replies, 1, "a repeated BALAS replies once");
}

#[tokio::test]
async fn a_sender_over_the_hourly_limit_gets_one_refusal_then_silence() {
    let mut phone = Phone1708::new(3).await;
    for _ in 0..3 {
        let (action, _) = phone.text(STRANGER, "BANTUAN").await;
        assert_eq!(action, Action::Help);
    }
    let (action, reply) = phone.text(STRANGER, "BANTUAN").await;
    assert_eq!(action, Action::RateLimited);
    assert!(reply.is_some_and(|r| r.contains("1 jam")));
    let before = phone.sms_count();
    for _ in 0..3 {
        let (action, reply) = phone
            .text(
                STRANGER,
                "LAPOR jalan rusak parah di Kota Cirebon sejak lama",
            )
            .await;
        assert_eq!((action, reply), (Action::Ignored, None));
    }
    assert_eq!(phone.sms_count(), before, "silence after the refusal");
    assert_eq!(phone.store.report_count(), 0);
    // Another number is not limited by this one.
    let (action, _) = phone.text(REPORTER, "BANTUAN").await;
    assert_eq!(action, Action::Help);
}

#[tokio::test]
async fn a_number_that_is_not_a_phone_is_ignored_without_a_reply() {
    let mut phone = Phone1708::new(10).await;
    let (action, reply) = phone
        .text(
            "not-a-number",
            "LAPOR jalan rusak di Kota Cirebon sejak lama",
        )
        .await;
    assert_eq!((action, reply), (Action::Ignored, None));
    assert_eq!(phone.store.report_count(), 0);
    assert_eq!(phone.sms_count(), 0);
}

#[tokio::test]
async fn the_sample_event_makes_a_report_in_kota_cirebon() {
    let phone = Phone1708::new(10).await;
    let event: aws_lambda_events::sns::SnsEvent =
        serde_json::from_str(include_str!("../../../events/sms/lapor-new-report.json"))
            .expect("sample event");
    lapor_sms::handle_event(&phone.deps, &event)
        .await
        .expect("handled");
    assert_eq!(phone.store.report_count(), 1);
    let Some(OutboxEntry::Sms { to, text }) = phone.outbox.entries().into_iter().next() else {
        panic!("a reply SMS");
    };
    assert!(to.ends_with("890") && !to.contains("812345"), "{to}");
    assert!(text.contains("CEK "), "{text}");
}

#[test]
fn an_inbound_sms_hides_the_sender_the_text_and_the_message_id_in_debug() {
    let inbound: lapor_sms::InboundSms = serde_json::from_value(serde_json::json!({
        "originationNumber": "+6281234567890",
        "destinationNumber": "+621708",
        "messageBody": "LAPOR Saya Siti Aminah, jalan berlubang di Jl. Cipto, Kota Cirebon",
        "inboundMessageId": "0b6c1f3e-2a4d-5e6f-8a9b-1c2d3e4f5a6b"
    }))
    .expect("inbound SMS");
    let debug = format!("{inbound:?}");
    for secret in ["812345678", "Siti", "Cipto", "0b6c1f3e"] {
        assert!(!debug.contains(secret), "{secret:?} in {debug}");
    }
    assert!(debug.contains("…890"), "{debug}");
    assert!(debug.contains("(66 characters)"), "{debug}");
    assert_eq!(
        inbound.origination_number, "+6281234567890",
        "the value is untouched"
    );
}
