//! One contract for every store: each case runs on MemStore and on DynamoStore over moto.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use lapor_core::stats::{AgencyFigures, ColorCounts, CountedChange, FollowUps, GroupBy};
use lapor_core::{
    AccessKey, Actor, AgencyId, Category, Channel, ContactKeys, Deadlines, Directory, Event,
    EventKind, Hop, KeyPepper, PartnerApiKey, PartnerKey, PartnerKeyId, Privacy, RegionCode,
    Report, ReportDraft, ReportType, Reporter, Status, TrackingCode,
};
use lapor_store::{
    Conflict, DynamoStore, IdempotencyRecord, MemStore, Queue, ReporterIdentity, Reports, Store,
    StoreError, Submission, IDEMPOTENCY_TTL_SECS,
};
use lapor_tests::{moto_dynamodb, pothole_json, unique_name};

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-30T02:00:00Z")
        .map(|t| t.to_utc())
        .unwrap_or_else(|_| Utc::now())
}

fn submission(idempotency_key: Option<&str>) -> Submission {
    let json = pothole_json();
    let new = ReportDraft(json.as_object().expect("object"))
        .validate(Channel::Web)
        .expect("sample is valid");
    let code = TrackingCode::generate(&mut rand::rng());
    let key = AccessKey::generate(&mut rand::rng());
    let (report, reporter, event) = Report::open(
        new,
        code.clone(),
        key.hash(),
        now(),
        &Deadlines::indonesia(),
    );
    let idempotency = idempotency_key.map(|k| IdempotencyRecord {
        key_hash: k.to_string(),
        request_hash: "body-hash".into(),
        tracking_code: code,
        created_at: report.created_at,
        expires_at: now().timestamp() + IDEMPOTENCY_TTL_SECS,
    });
    let contact_keys = reporter
        .as_ref()
        .map(|r| pepper().contact_keys(r))
        .unwrap_or_default();
    Submission {
        report,
        reporter,
        contact_keys,
        event,
        idempotency,
    }
}

fn pepper() -> KeyPepper {
    KeyPepper::new(vec![7; 32]).expect("pepper")
}

fn follow_up(report: &Report, seq: u64, to: Status) -> (Report, Event) {
    let mut next = report.clone();
    next.status = to;
    next.version = report.version + 1;
    next.updated_at = report.updated_at + Duration::minutes(seq as i64);
    let event = Event {
        seq,
        at: next.updated_at,
        kind: EventKind::FollowUp,
        actor: Actor::Officer,
        agency: AgencyId::parse("kota-cirebon-dpupr").ok(),
        status_before: Some(report.status),
        status_after: to,
        from_agency: None,
        to_agency: None,
        message: Some(format!("tindak lanjut {seq}")),
        public: true,
        attachment: None,
    };
    (next, event)
}

fn conflict(result: Result<(), StoreError>) -> Conflict {
    match result {
        Err(StoreError::Conflict(c)) => c,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

async fn creates_and_reads_back(store: &dyn Store) {
    let sub = submission(None);
    let code = sub.report.tracking_code.clone();
    store
        .create_report(&sub, now().timestamp())
        .await
        .expect("create");
    assert_eq!(
        store.report(&code).await.expect("read"),
        Some(sub.report.clone())
    );
    let full = store
        .report_with_timeline(&code)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(full.report, sub.report);
    assert_eq!(full.timeline, vec![sub.event.clone()]);
    assert_eq!(store.reporter(&code).await.expect("read"), sub.reporter);
    let missing = TrackingCode::generate(&mut rand::rng());
    assert_eq!(store.report(&missing).await.expect("read"), None);
    assert!(store
        .report_with_timeline(&missing)
        .await
        .expect("read")
        .is_none());
    assert_eq!(store.reporter(&missing).await.expect("read"), None);
}

async fn contact_keys_are_kept_with_the_reporter_only(store: &dyn Store) {
    /// Writes `sub` and reads back its reporter with their keys.
    async fn written(store: &dyn Store, sub: &Submission) -> Option<(Reporter, ContactKeys)> {
        store
            .create_report(sub, now().timestamp())
            .await
            .expect("create");
        let code = &sub.report.tracking_code;
        store.reporter_with_keys(code).await.expect("read")
    }

    let sub = submission(None);
    let (Some(reporter), Some(_), Some(_)) = (
        sub.reporter.clone(),
        &sub.contact_keys.sms_out,
        &sub.contact_keys.mail_out,
    ) else {
        panic!("the sample has a phone and an e-mail");
    };
    assert_eq!(
        written(store, &sub).await,
        Some((reporter.clone(), sub.contact_keys.clone()))
    );

    // A reporter written before the keys were kept reads back with none.
    let mut before = submission(None);
    before.contact_keys = ContactKeys::default();
    assert_eq!(
        written(store, &before).await,
        Some((reporter, ContactKeys::default()))
    );

    // Without a reporter there is nothing to keep the keys with.
    let mut nobody = submission(None);
    nobody.reporter = None;
    assert_eq!(written(store, &nobody).await, None);
    let missing = TrackingCode::generate(&mut rand::rng());
    assert_eq!(
        store.reporter_with_keys(&missing).await.expect("read"),
        None
    );
}

async fn a_taken_code_writes_nothing(store: &dyn Store) {
    let first = submission(None);
    store
        .create_report(&first, now().timestamp())
        .await
        .expect("create");
    let mut second = submission(Some(&unique_name("idem")));
    second.report.tracking_code = first.report.tracking_code.clone();
    second.report.title = "Judul lain".into();
    let key = second
        .idempotency
        .as_ref()
        .map(|r| r.key_hash.clone())
        .unwrap_or_default();
    let result = store.create_report(&second, now().timestamp()).await;
    assert_eq!(conflict(result), Conflict::CodeTaken);
    let kept = store
        .report(&first.report.tracking_code)
        .await
        .expect("read");
    assert_eq!(kept.map(|r| r.title), Some(first.report.title));
    assert_eq!(
        store
            .idempotency_record(&key, now().timestamp())
            .await
            .expect("read"),
        None
    );
}

async fn a_live_idempotency_key_is_taken_once(store: &dyn Store) {
    let key = unique_name("idem");
    let first = submission(Some(&key));
    store
        .create_report(&first, now().timestamp())
        .await
        .expect("create");
    let record = store
        .idempotency_record(&key, now().timestamp())
        .await
        .expect("read");
    assert_eq!(record, first.idempotency.clone());

    let second = submission(Some(&key));
    let result = store.create_report(&second, now().timestamp()).await;
    assert_eq!(conflict(result), Conflict::IdempotencyKeyTaken);
    assert_eq!(
        store
            .report(&second.report.tracking_code)
            .await
            .expect("read"),
        None
    );
    assert_eq!(
        store
            .reporter(&second.report.tracking_code)
            .await
            .expect("read"),
        None
    );
}

async fn an_expired_idempotency_key_is_free_again(store: &dyn Store) {
    let key = unique_name("idem");
    let first = submission(Some(&key));
    store
        .create_report(&first, now().timestamp())
        .await
        .expect("create");
    let later = now().timestamp() + IDEMPOTENCY_TTL_SECS + 1;
    assert_eq!(
        store.idempotency_record(&key, later).await.expect("read"),
        None
    );
    let mut second = submission(Some(&key));
    if let Some(record) = second.idempotency.as_mut() {
        record.expires_at = later + IDEMPOTENCY_TTL_SECS;
    }
    store
        .create_report(&second, later)
        .await
        .expect("expired key is reusable");
    let record = store.idempotency_record(&key, later).await.expect("read");
    assert_eq!(
        record.map(|r| r.tracking_code),
        Some(second.report.tracking_code)
    );
}

async fn updates_need_the_version_they_read(store: &dyn Store) {
    let sub = submission(None);
    let code = sub.report.tracking_code.clone();
    store
        .create_report(&sub, now().timestamp())
        .await
        .expect("create");
    let (v2, e2) = follow_up(&sub.report, 2, Status::Terdisposisi);
    store
        .update_report(&sub.report, &v2, std::slice::from_ref(&e2))
        .await
        .expect("update from v1");

    let (stale, e_stale) = follow_up(&sub.report, 3, Status::Arsip);
    let result = store.update_report(&sub.report, &stale, &[e_stale]).await;
    assert_eq!(conflict(result), Conflict::VersionMismatch);

    let full = store
        .report_with_timeline(&code)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(full.report, v2);
    assert_eq!(full.timeline, vec![sub.event.clone(), e2]);

    let ghost = submission(None);
    let (g2, ge2) = follow_up(&ghost.report, 2, Status::Terdisposisi);
    assert_eq!(
        conflict(store.update_report(&ghost.report, &g2, &[ge2]).await),
        Conflict::VersionMismatch
    );
    assert_eq!(
        store
            .report(&ghost.report.tracking_code)
            .await
            .expect("read"),
        None
    );
}

async fn timelines_come_back_in_order(store: &dyn Store) {
    let sub = submission(None);
    let code = sub.report.tracking_code.clone();
    store
        .create_report(&sub, now().timestamp())
        .await
        .expect("create");
    let mut current = sub.report.clone();
    let mut expected = vec![sub.event.clone()];
    for seq in 2..=12 {
        let to = if seq % 2 == 0 {
            Status::Diproses
        } else {
            Status::Tertunda
        };
        let (next, event) = follow_up(&current, seq, to);
        store
            .update_report(&current, &next, std::slice::from_ref(&event))
            .await
            .expect("update");
        expected.push(event);
        current = next;
    }
    let full = store
        .report_with_timeline(&code)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(full.timeline, expected);
    assert_eq!(full.report.version, 12);
}

async fn the_directory_gives_children_and_routes(store: &dyn Store) {
    let directory = Directory::parse(Directory::bundled_sample()).expect("directory");
    store.put_directory(&directory).await.expect("import");
    store.put_directory(&directory).await.expect("import again");
    let id = |s: &str| AgencyId::parse(s).expect("id");
    let mut children: Vec<String> = store
        .children(&id("kota-cirebon"))
        .await
        .expect("children")
        .iter()
        .map(|c| c.to_string())
        .collect();
    children.sort();
    assert_eq!(children.len(), 9, "{children:?}");
    assert!(children.contains(&"kota-cirebon-dpupr".to_string()));
    assert!(store
        .children(&id("kota-cirebon-dpupr"))
        .await
        .expect("children")
        .is_empty());
    let region = |s: &str| RegionCode::parse(s).expect("region");
    let route = |r: &str, c| {
        let r = region(r);
        async move {
            store
                .route(&r, c)
                .await
                .expect("route")
                .map(|a| a.to_string())
        }
    };
    assert_eq!(
        route("32.74", Category::Infrastruktur).await.as_deref(),
        Some("kota-cirebon-dpupr")
    );
    assert_eq!(
        route("32.01", Category::Kesehatan).await.as_deref(),
        Some("jabar")
    );
    assert_eq!(route("33", Category::Infrastruktur).await, None);
    let dpupr = store
        .agency(&id("kota-cirebon-dpupr"))
        .await
        .expect("agency")
        .expect("exists");
    assert_eq!(dpupr.parent, Some(id("kota-cirebon")));
}

async fn the_directory_lists_every_agency_by_id(store: &dyn Store) {
    let directory = Directory::parse(Directory::bundled_sample()).expect("directory");
    assert!(store.agencies().await.expect("list").is_empty());
    store.put_directory(&directory).await.expect("import");
    store.put_directory(&directory).await.expect("import again");
    let listed = store.agencies().await.expect("list");
    let expected: Vec<_> = directory.agencies().cloned().collect();
    assert_eq!(listed, expected, "every agency once, by id, as imported");
    assert!(listed.iter().any(|a| !a.handles_reports()));
}

/// A new report created `minutes` after the others' time and forwarded to `to`, with `adjust`
/// applied to the forwarded version before it is written.
async fn forwarded(
    store: &dyn Store,
    minutes: i64,
    to: &AgencyId,
    adjust: impl FnOnce(&mut Report),
) -> Report {
    let mut sub = submission(None);
    sub.report.created_at += Duration::minutes(minutes);
    store
        .create_report(&sub, now().timestamp())
        .await
        .expect("create");
    let hop = Hop {
        actor: Actor::System,
        by: None,
        message: None,
    };
    let (mut next, event) = sub
        .report
        .forward(to, hop, now(), &Deadlines::indonesia())
        .expect("forward");
    adjust(&mut next);
    store
        .update_report(&sub.report, &next, &[event])
        .await
        .expect("forward");
    next
}

async fn queues_page_newest_first(store: &dyn Store) {
    let agency = AgencyId::parse(&unique_name("dinas")).expect("id");
    let mut codes = Vec::new();
    for minutes in 0..5 {
        let report = forwarded(store, minutes, &agency, |_| {}).await;
        codes.push(report.tracking_code.to_string());
    }
    codes.reverse();
    let queue = Queue::Agency(agency);
    let mut seen = Vec::new();
    let mut cursor = None;
    for _ in 0..5 {
        let page = store
            .queue(
                std::slice::from_ref(&queue),
                &|_| true,
                2,
                cursor.as_deref(),
            )
            .await
            .expect("page");
        assert!(page.reports.len() <= 2);
        seen.extend(page.reports.iter().map(|r| r.tracking_code.to_string()));
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen, codes, "every report once, newest first");
    assert!(matches!(
        store.queue(&[queue], &|_| true, 2, Some("zz")).await,
        Err(StoreError::Conflict(Conflict::BadCursor))
    ));
}

async fn statistics_follow_every_change(store: &dyn Store) {
    let mut sub = submission(None);
    // A region of its own so other cases do not count here.
    sub.report.region = RegionCode::parse("32.79").expect("Kota Banjar");
    store
        .create_report(&sub, now().timestamp())
        .await
        .expect("create");
    // Statistics follow from the stream: the consumer counts each change.
    let t = now().timestamp();
    store
        .count(&[CountedChange::of(None, &sub.report)], t)
        .await
        .expect("count");
    let year = sub.report.created_at.year();
    let region = sub.report.region.clone();
    let rows = store
        .stats(&region, year, GroupBy::Category)
        .await
        .expect("stats");
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].key.as_str(), rows[0].total), ("infrastruktur", 1));
    assert_eq!(rows[0].colors.get("grey"), Some(&1));
    let (v2, e2) = follow_up(&sub.report, 2, Status::Diproses);
    store
        .update_report(&sub.report, &v2, &[e2])
        .await
        .expect("update");
    store
        .count(&[CountedChange::of(Some(&sub.report), &v2)], t)
        .await
        .expect("count");
    let rows = store
        .stats(&region, year, GroupBy::Category)
        .await
        .expect("stats");
    assert_eq!(rows[0].total, 1);
    assert_eq!(rows[0].colors.get("yellow"), Some(&1));
    assert_eq!(rows[0].colors.get("grey"), None);
    let province = store
        .stats(&RegionCode::parse("32").expect("32"), year, GroupBy::Month)
        .await
        .expect("stats");
    assert!(province.iter().map(|r| r.total).sum::<i64>() >= 1);
}

/// A batch delivered twice, then split in two (as Lambda bisects a failing batch) and retried,
/// with one change twice in the same batch: every change counts exactly once.
async fn statistics_count_each_change_once(store: &dyn Store) {
    let region = RegionCode::parse("32.77").expect("Kota Cimahi");
    let mut changes = Vec::new();
    let mut last = None;
    for n in 0..5u64 {
        let mut sub = submission(None);
        sub.report.region = region.clone();
        changes.push(CountedChange::of(None, &sub.report));
        if n < 2 {
            let (v2, _) = follow_up(&sub.report, 2, Status::Diproses);
            changes.push(CountedChange::of(Some(&sub.report), &v2));
        }
        last = Some(sub.report);
    }
    let t = now().timestamp();
    let count = |batch: Vec<CountedChange>| async move {
        store.count(&batch, t).await.expect("count");
    };
    count(changes.clone()).await;
    count(changes.clone()).await;
    let (first, second) = changes.split_at(3);
    count(first.to_vec()).await;
    count(second.to_vec()).await;
    count(vec![changes[0].clone(), changes[0].clone()]).await;
    let year = last.expect("a report").created_at.year();
    let rows = store
        .stats(&region, year, GroupBy::Category)
        .await
        .expect("stats");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].total, 5);
    assert_eq!(rows[0].colors.get("yellow"), Some(&2));
    assert_eq!(rows[0].colors.get("grey"), Some(&3));
}

/// Dashboards count what each agency holds now and its first follow-ups per local day, once per
/// change however often a batch is delivered or split, `rahasia` reports included; the
/// published statistics still never show a `rahasia` report in an agency's row.
async fn dashboards_follow_the_holder_once(store: &dyn Store) {
    let id = |prefix: &str| AgencyId::parse(&unique_name(prefix)).expect("id");
    let (a, b, idle) = (id("dinas-a"), id("dinas-b"), id("dinas-c"));
    let region = RegionCode::parse("32.72").expect("Kota Sukabumi");
    let deadlines = Deadlines::indonesia();
    let hop = || Hop {
        actor: Actor::Officer,
        by: None,
        message: None,
    };
    let open = |privacy| {
        let mut report = submission(None).report;
        report.region = region.clone();
        report.privacy = privacy;
        report
    };
    let forward = |report: &Report, to: &AgencyId, hours| {
        report
            .forward(to, hop(), now() + Duration::hours(hours), &deadlines)
            .expect("forward")
            .0
    };
    // Forwarded to A, then on to B.
    let moved = open(Privacy::Publik);
    let moved_a = forward(&moved, &a, 0);
    let moved_b = forward(&moved_a, &b, 2);
    // Rahasia, forwarded to A and answered on time, 10:00 WIB on 30 November.
    let secret = open(Privacy::Rahasia);
    let secret_a = forward(&secret, &a, 0);
    let (answered, _) = secret_a
        .follow_up(
            Status::Diproses,
            hop(),
            None,
            now() + Duration::hours(1),
            &deadlines,
        )
        .expect("follow up");
    // Forwarded to A and left until the sweep flags it red.
    let ignored = open(Privacy::Publik);
    let ignored_a = forward(&ignored, &a, 0);
    let (late, _) = ignored_a.escalate(now() + Duration::days(30), &deadlines);
    let changes = vec![
        CountedChange::of(None, &moved),
        CountedChange::of(Some(&moved), &moved_a),
        CountedChange::of(Some(&moved_a), &moved_b),
        CountedChange::of(None, &secret),
        CountedChange::of(Some(&secret), &secret_a),
        CountedChange::of(Some(&secret_a), &answered),
        CountedChange::of(None, &ignored),
        CountedChange::of(Some(&ignored), &ignored_a),
        CountedChange::of(Some(&ignored_a), &late),
    ];
    let t = now().timestamp();
    store.count(&changes, t).await.expect("count");
    store.count(&changes, t).await.expect("delivered again");
    let (first, second) = changes.split_at(4);
    store.count(first, t).await.expect("first half");
    store.count(second, t).await.expect("second half");

    let day = NaiveDate::from_ymd_opt(2026, 11, 30).expect("date");
    let since = NaiveDate::from_ymd_opt(2026, 11, 1).expect("date");
    let asked = [a.clone(), b.clone(), idle.clone()];
    let figures = store.agency_figures(&asked, since).await.expect("figures");
    let expected_a = AgencyFigures {
        agency: a.clone(),
        colors: ColorCounts {
            grey: 0,
            yellow: 1,
            green: 0,
            red: 1,
        },
        days: BTreeMap::from([(
            day,
            FollowUps {
                followed_up: 1,
                on_time: 1,
            },
        )]),
    };
    let expected_b = AgencyFigures {
        colors: ColorCounts {
            grey: 1,
            ..ColorCounts::default()
        },
        ..AgencyFigures::empty(b.clone())
    };
    assert_eq!(
        figures,
        [expected_a, expected_b, AgencyFigures::empty(idle.clone())]
    );
    assert_eq!(figures[0].overdue(), 1);

    // Days before `since` are not read; what the agency holds is.
    let later = store
        .agency_figures(std::slice::from_ref(&a), day + Duration::days(1))
        .await
        .expect("figures");
    assert!(later[0].days.is_empty(), "{later:?}");
    assert_eq!(later[0].colors.yellow, 1);

    let published = store
        .stats(&region, 2026, GroupBy::Agency)
        .await
        .expect("stats");
    let per_agency: i64 = published.iter().map(|row| row.total).sum();
    assert_eq!(
        per_agency, 2,
        "the rahasia report is in no agency's row: {published:?}"
    );
}

async fn the_due_index_finds_exactly_the_overdue(store: &dyn Store) {
    // Far in the past so other cases' reports (due later) never count here.
    let at = DateTime::parse_from_rfc3339("2001-01-01T00:00:00Z")
        .map(|t| t.to_utc())
        .expect("time");
    let mut late = Vec::new();
    for hours in [-30i64, -2, 5] {
        let mut sub = submission(None);
        sub.report.due_at = Some((at + Duration::hours(hours)).fixed_offset());
        store
            .create_report(&sub, now().timestamp())
            .await
            .expect("create");
        if hours < 0 {
            late.push(sub.report.clone());
        }
    }
    let overdue = |when: DateTime<Utc>| async move {
        let mut codes = Vec::new();
        let mut cursor = None;
        loop {
            let page = store
                .overdue(when, 1, cursor.as_deref())
                .await
                .expect("page");
            assert!(page.reports.len() <= 1);
            codes.extend(page.reports.iter().map(|r| r.tracking_code.to_string()));
            cursor = page.next;
            if cursor.is_none() {
                break;
            }
        }
        codes.sort();
        codes
    };
    let mut expected: Vec<String> = late.iter().map(|r| r.tracking_code.to_string()).collect();
    expected.sort();
    assert_eq!(overdue(at).await, expected);
    // Meeting the deadline (a new one later) takes a report out of the index in the same write.
    let mut met = late[0].clone();
    met.version += 1;
    met.due_at = Some((at + Duration::days(3)).fixed_offset());
    store
        .update_report(&late[0], &met, &[])
        .await
        .expect("update");
    assert_eq!(overdue(at).await, vec![late[1].tracking_code.to_string()]);
    assert!(matches!(
        store.overdue(at, 1, Some("zz")).await,
        Err(StoreError::Conflict(Conflict::BadCursor))
    ));
}

/// A supervisor's inbox: two queues merged newest first, filtered, paged by one cursor.
async fn queues_merge_and_filter_across_pages(store: &dyn Store) {
    let parent = AgencyId::parse(&unique_name("pemkot")).expect("id");
    let department = AgencyId::parse(&unique_name("dinas")).expect("id");
    let mut expected = Vec::new();
    for minutes in 0..6 {
        let to = if minutes % 2 == 0 {
            &parent
        } else {
            &department
        };
        // Every third report is being worked on; the filter asks for those only.
        let report = forwarded(store, minutes, to, |next| {
            if minutes % 3 == 0 {
                next.status = Status::Diproses;
            }
        })
        .await;
        if minutes % 3 == 0 {
            expected.push(report.tracking_code.to_string());
        }
    }
    expected.reverse();
    let queues = [Queue::Agency(parent), Queue::Agency(department)];
    let wanted = |r: &Report| r.status == Status::Diproses;
    let mut all = Vec::new();
    let mut cursor = None;
    for _ in 0..6 {
        let page = store
            .queue(&queues, &|_| true, 2, cursor.as_deref())
            .await
            .expect("page");
        assert!(page.reports.len() <= 2);
        all.extend(page.reports);
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(all.len(), 6, "both queues, every report once");
    assert!(
        all.windows(2).all(|w| w[0].created_at > w[1].created_at),
        "newest first across both queues"
    );
    let first = store
        .queue(&queues, &wanted, 1, None)
        .await
        .expect("filtered page");
    assert_eq!(
        first
            .reports
            .iter()
            .map(|r| r.tracking_code.to_string())
            .collect::<Vec<_>>(),
        expected[..1]
    );
    let rest = store
        .queue(&queues, &wanted, 5, first.next.as_deref())
        .await
        .expect("filtered page");
    assert_eq!(
        rest.reports
            .iter()
            .map(|r| r.tracking_code.to_string())
            .collect::<Vec<_>>(),
        expected[1..]
    );
    assert_eq!(rest.next, None);
}

async fn marks_are_taken_once(store: &dyn Store) {
    let key = unique_name("mark");
    let t = now().timestamp();
    assert!(!store.is_marked(&key, t).await.expect("read"));
    assert!(store.mark_once(&key, t, 60).await.expect("mark"));
    assert!(store.is_marked(&key, t + 1).await.expect("read"));
    assert!(!store.mark_once(&key, t + 1, 60).await.expect("mark"));
    assert!(
        !store.is_marked(&key, t + 61).await.expect("read"),
        "expired"
    );
    assert!(store
        .mark_once(&key, t + 61, 60)
        .await
        .expect("expired mark is free"));
}

/// Hits on one key add up, also when they race; another key counts on its own.
async fn hits_are_counted_per_key(store: &dyn Store) {
    let (key, other) = (unique_name("hits"), unique_name("hits"));
    let t = now().timestamp();
    assert_eq!(store.count_hit(&key, t, 3600).await.expect("hit"), 1);
    assert_eq!(store.count_hit(&key, t + 1, 3600).await.expect("hit"), 2);
    let hit = || store.count_hit(&key, t + 2, 3600);
    let racing = tokio::join!(hit(), hit(), hit(), hit());
    let mut counts = [racing.0, racing.1, racing.2, racing.3].map(|r| r.expect("hit"));
    counts.sort_unstable();
    assert_eq!(counts, [3, 4, 5, 6]);
    assert_eq!(store.count_hit(&other, t, 3600).await.expect("hit"), 1);
}

/// The public feed: newest first, never a confidential report, at most `limit`, and the reports
/// as they are now (an update shows).
async fn the_feed_shows_only_public_reports_newest_first(store: &dyn Store) {
    // Relative to the wall clock: the feed is of recent months.
    let ago = |minutes: i64| (Utc::now() - Duration::minutes(minutes)).fixed_offset();
    let mut public = Vec::new();
    let cases = [
        (1, Privacy::Publik, ReportType::Pengaduan),
        (2, Privacy::Rahasia, ReportType::Pengaduan),
        (3, Privacy::Anonim, ReportType::Aspirasi),
        (4, Privacy::RahasiaAnonim, ReportType::Whistleblowing),
        (5, Privacy::RahasiaAnonim, ReportType::Pengaduan),
        // About five weeks ago: an earlier month, still within the feed's reach.
        (50_000, Privacy::Publik, ReportType::Pengaduan),
    ];
    for (minutes, privacy, kind) in cases {
        let mut sub = submission(None);
        sub.report.created_at = ago(minutes);
        sub.report.updated_at = ago(minutes);
        sub.report.privacy = privacy;
        sub.report.report_type = kind;
        store
            .create_report(&sub, now().timestamp())
            .await
            .expect("create");
        if !privacy.hides_report() {
            public.push(sub.report);
        }
    }
    let codes = |reports: &[Report]| {
        reports
            .iter()
            .map(|r| r.tracking_code.to_string())
            .collect::<Vec<_>>()
    };
    let feed = store.recent_public(10).await.expect("feed");
    assert_eq!(codes(&feed), codes(&public), "public only, newest first");
    assert_eq!(feed, public);
    let two = store.recent_public(2).await.expect("feed");
    assert_eq!(codes(&two), codes(&public[..2]));
    assert!(store.recent_public(0).await.expect("feed").is_empty());

    let (answered, event) = follow_up(&public[0], 2, Status::Diproses);
    store
        .update_report(&public[0], &answered, &[event])
        .await
        .expect("update");
    let feed = store.recent_public(1).await.expect("feed");
    assert_eq!(feed, vec![answered], "the report as it is now, still first");
}

/// A window of the public feed: only public reports created within it (both ends included),
/// newest first, page by page across month partitions, and a cursor of our own only.
async fn the_feed_reads_a_window_page_by_page(store: &dyn Store) {
    let at = |text: &str| {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.to_utc())
            .expect("fixed time")
    };
    let cases = [
        (
            "2026-09-30T23:59:59Z",
            Privacy::Publik,
            ReportType::Pengaduan,
        ),
        (
            "2026-10-01T00:00:00Z",
            Privacy::Publik,
            ReportType::Pengaduan,
        ),
        (
            "2026-10-20T05:00:00Z",
            Privacy::Anonim,
            ReportType::Aspirasi,
        ),
        (
            "2026-11-02T05:00:00Z",
            Privacy::Rahasia,
            ReportType::Pengaduan,
        ),
        (
            "2026-11-03T05:00:00Z",
            Privacy::RahasiaAnonim,
            ReportType::Whistleblowing,
        ),
        (
            "2026-11-20T05:00:00Z",
            Privacy::Publik,
            ReportType::Pengaduan,
        ),
        (
            "2026-11-30T01:00:00Z",
            Privacy::Publik,
            ReportType::PermintaanInformasi,
        ),
        (
            "2026-11-30T01:00:01Z",
            Privacy::Publik,
            ReportType::Pengaduan,
        ),
    ];
    let mut inside = Vec::new();
    for (i, (created, privacy, kind)) in cases.into_iter().enumerate() {
        let mut sub = submission(None);
        sub.report.created_at = at(created).fixed_offset();
        sub.report.updated_at = at(created).fixed_offset();
        sub.report.privacy = privacy;
        sub.report.report_type = kind;
        store
            .create_report(&sub, now().timestamp())
            .await
            .expect("create");
        if (1..=6).contains(&i) && !privacy.hides_report() {
            inside.push(sub.report.tracking_code.to_string());
        }
    }
    inside.reverse();
    let (from, to) = (at("2026-10-01T00:00:00Z"), at("2026-11-30T01:00:00Z"));
    let mut read = Vec::new();
    let mut cursor = None;
    for _ in 0..5 {
        let page = store
            .public_between(from, to, 2, cursor.as_deref())
            .await
            .expect("page");
        assert!(page.reports.len() <= 2);
        read.extend(page.reports.iter().map(|r| r.tracking_code.to_string()));
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    assert!(cursor.is_none(), "the pages end");
    assert_eq!(read, inside, "public only, inside the window, newest first");
    let all = store.public_between(from, to, 10, None).await.expect("all");
    assert_eq!(all.reports.len(), inside.len());
    assert_eq!(all.next, None);
    let empty = store
        .public_between(to, from, 10, None)
        .await
        .expect("empty");
    assert!(empty.reports.is_empty());
    let bad = store.public_between(from, to, 2, Some("not-ours")).await;
    assert!(matches!(
        bad,
        Err(StoreError::Conflict(Conflict::BadCursor))
    ));
}

/// Partner keys: found by id with only the secret's hash kept, an id taken once, revoked once
/// (the first time kept), and listed oldest first with the revoked ones.
async fn partner_keys_are_issued_found_revoked_and_listed(store: &dyn Store) {
    let issued = now().fixed_offset();
    let (first, key) =
        PartnerKey::issue("Aplikasi Warga", issued, &mut rand::rng()).expect("issue");
    let (second, _) = PartnerKey::issue(
        "Aplikasi Kota",
        issued + Duration::minutes(1),
        &mut rand::rng(),
    )
    .expect("issue");
    store.add_partner_key(&first).await.expect("add");
    store.add_partner_key(&second).await.expect("add");
    let found = store.partner_key(&first.id).await.expect("read");
    assert_eq!(found.as_ref(), Some(&first));
    let presented = PartnerApiKey::presented(&key.reveal()).expect("well-formed");
    assert!(found.is_some_and(|k| k.admits(&presented)));

    let mut taken = second.clone();
    taken.name = "Peniru".into();
    taken.id = first.id.clone();
    assert_eq!(
        conflict(store.add_partner_key(&taken).await),
        Conflict::PartnerKeyTaken
    );
    assert_eq!(
        store
            .partner_key(&first.id)
            .await
            .expect("read")
            .map(|k| k.name),
        Some("Aplikasi Warga".into()),
        "the first key is kept"
    );

    let at = issued + Duration::hours(1);
    let revoked = store
        .revoke_partner_key(&first.id, at)
        .await
        .expect("revoke");
    assert_eq!(revoked.as_ref().and_then(|k| k.revoked_at), Some(at));
    let again = store
        .revoke_partner_key(&first.id, at + Duration::hours(1))
        .await
        .expect("revoke again");
    assert_eq!(
        again.and_then(|k| k.revoked_at),
        Some(at),
        "the first time is kept"
    );
    let read = store
        .partner_key(&first.id)
        .await
        .expect("read")
        .expect("still there");
    assert!(!read.admits(&presented), "a revoked key admits nothing");

    let missing = PartnerKeyId::generate(&mut rand::rng());
    assert_eq!(store.partner_key(&missing).await.expect("read"), None);
    assert_eq!(
        store
            .revoke_partner_key(&missing, at)
            .await
            .expect("revoke"),
        None
    );
    assert_eq!(
        store.partner_key(&missing).await.expect("read"),
        None,
        "not created"
    );

    let listed = store.partner_keys().await.expect("list");
    assert_eq!(listed, vec![read, second]);
}

macro_rules! contract {
    ($($case:ident),* $(,)?) => {
        mod mem {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(&lapor_store::MemStore::new()).await;
                }
            )*
        }
        mod persistent_mem {
            $(
                #[tokio::test]
                async fn $case() {
                    let dir = std::env::temp_dir().join(lapor_tests::unique_name("lapor-mem"));
                    std::fs::create_dir_all(&dir).expect("temp dir");
                    let file = dir.join("store.json");
                    let store = lapor_store::MemStore::persistent(&file).expect("open");
                    super::$case(&store).await;
                    let reopened = lapor_store::MemStore::persistent(&file).expect("reopen");
                    assert_eq!(reopened.report_count(), store.report_count());
                    let _ = std::fs::remove_dir_all(dir);
                }
            )*
        }
        mod dynamo {
            $(
                #[tokio::test]
                async fn $case() {
                    let Some(store) = super::dynamo_store().await else { return };
                    super::$case(&store).await;
                }
            )*
        }
    };
}

async fn dynamo_store() -> Option<DynamoStore> {
    let (client, _) = moto_dynamodb().await?;
    let store = DynamoStore::new(client, unique_name("contract"));
    store.create_table_if_missing().await.expect("create table");
    Some(store)
}

contract!(
    creates_and_reads_back,
    contact_keys_are_kept_with_the_reporter_only,
    a_taken_code_writes_nothing,
    a_live_idempotency_key_is_taken_once,
    an_expired_idempotency_key_is_free_again,
    updates_need_the_version_they_read,
    timelines_come_back_in_order,
    the_directory_gives_children_and_routes,
    the_directory_lists_every_agency_by_id,
    queues_page_newest_first,
    queues_merge_and_filter_across_pages,
    statistics_follow_every_change,
    statistics_count_each_change_once,
    dashboards_follow_the_holder_once,
    marks_are_taken_once,
    hits_are_counted_per_key,
    the_due_index_finds_exactly_the_overdue,
    the_feed_shows_only_public_reports_newest_first,
    the_feed_reads_a_window_page_by_page,
    partner_keys_are_issued_found_revoked_and_listed,
);

#[tokio::test]
async fn mem_store_survives_a_restart() {
    let dir = std::env::temp_dir().join(unique_name("lapor-mem"));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("store.json");
    let sub = submission(None);
    MemStore::persistent(&file)
        .expect("open")
        .create_report(&sub, now().timestamp())
        .await
        .expect("create");
    let reopened = MemStore::persistent(&file).expect("reopen");
    let read = reopened
        .report(&sub.report.tracking_code)
        .await
        .expect("read");
    assert_eq!(read, Some(sub.report.clone()));
    let identity = reopened
        .reporter_with_keys(&sub.report.tracking_code)
        .await
        .expect("read");
    assert_eq!(identity, sub.reporter.zip(Some(sub.contact_keys)));
    let _ = std::fs::remove_dir_all(dir);
}
