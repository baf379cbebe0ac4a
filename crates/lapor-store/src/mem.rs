//! The embedded store: a map behind a mutex, optionally saved to a JSON file after every write
//! (written to a temporary file, synced, then renamed, so a crash never leaves half a file).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::NaiveDate;
use lapor_core::stats::{merged, AgencyFigures, CountedChange, CounterKey, GroupBy, StatsRow};
use lapor_core::{
    Agency, AgencyId, Category, ContactKeys, Directory, Event, PartnerKey, PartnerKeyId,
    RegionCode, Report, Reporter, Scope, TrackingCode,
};
use serde::{Deserialize, Serialize};

use crate::keys::{
    decode_cursor, due_bound, due_position, encode_cursor, feed_position, feed_window,
    figures_cell, figures_day, figures_position, queue_position, FIGURES_LAST,
};
use crate::paging::QueueIndex;
use crate::{
    AgencyDirectory, Conflict, DuePage, IdempotencyRecord, Marks, Page, PartnerKeys, Queue,
    ReportWithTimeline, ReporterIdentity, Reports, Statistics, StoreError, Submission,
    COUNTED_TTL_SECS,
};

#[derive(Debug, Default)]
pub struct MemStore {
    state: Mutex<State>,
    file: Option<PathBuf>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct State {
    reports: BTreeMap<TrackingCode, Stored>,
    idempotency: BTreeMap<String, IdempotencyRecord>,
    #[serde(default)]
    agencies: BTreeMap<AgencyId, Agency>,
    /// (scope key, category id) → agency.
    #[serde(default)]
    rules: BTreeMap<String, AgencyId>,
    /// Consumer marks: key → expiry (Unix seconds).
    #[serde(default)]
    marks: BTreeMap<String, i64>,
    /// Rate-limit counters: key → (hits, expiry in Unix seconds).
    #[serde(default)]
    hits: BTreeMap<String, (u64, i64)>,
    /// Statistics counters: "region|year|dimension" → counter → value.
    #[serde(default)]
    stats: BTreeMap<String, BTreeMap<String, i64>>,
    /// Agencies' dashboard items, apart from the published ones: agency → position (as
    /// `figures_position` files it) → counter → value.
    #[serde(default)]
    figures: BTreeMap<AgencyId, BTreeMap<String, BTreeMap<String, i64>>>,
    /// Open311 partners' keys (hashed secrets) by id.
    #[serde(default)]
    partner_keys: BTreeMap<PartnerKeyId, PartnerKey>,
    /// When expired idempotency records, marks and counters are next dropped (Unix seconds).
    /// Dropping them on every write scanned them all each time: a lapor-local that had handled
    /// 40k reports spent minutes catching up on its notifications.
    #[serde(skip)]
    next_purge: i64,
    /// The due index: due position → code. Derived from the reports, so never saved.
    #[serde(skip)]
    due: BTreeMap<String, TrackingCode>,
    /// The public feed: feed position → code, for reports the public may read. Derived too.
    #[serde(skip)]
    feed: BTreeMap<String, TrackingCode>,
}

fn counted_key(id: &str) -> String {
    format!("stats#{id}")
}

fn stats_key(region: &str, year: i32, dimension: &str) -> String {
    format!("{region}|{year}|{dimension}")
}

/// How often expired records are dropped; until then they are only ignored.
const PURGE_EVERY_SECS: i64 = 60;

impl State {
    fn purge_expired(&mut self, now_unix: i64) {
        if now_unix < self.next_purge {
            return;
        }
        self.idempotency.retain(|_, r| r.is_live(now_unix));
        self.marks.retain(|_, expiry| *expiry > now_unix);
        self.hits.retain(|_, (_, expiry)| *expiry > now_unix);
        self.next_purge = now_unix + PURGE_EVERY_SECS;
    }

    /// Files `new` (which was `old`) in the derived indexes: the due index and the feed.
    fn index(&mut self, old: Option<&Report>, new: &Report) {
        if let Some(key) = old.and_then(due_position) {
            self.due.remove(&key);
        }
        if let Some(key) = due_position(new) {
            self.due.insert(key, new.tracking_code.clone());
        }
        if let Some(key) = old.and_then(feed_position) {
            self.feed.remove(&key);
        }
        if let Some(key) = feed_position(new) {
            self.feed.insert(key, new.tracking_code.clone());
        }
    }

    fn rebuild_indexes(&mut self) {
        let reports: Vec<Report> = self.reports.values().map(|s| s.report.clone()).collect();
        for report in &reports {
            self.index(None, report);
        }
    }

    /// Adds the changes not counted yet, and remembers that they are.
    fn count(&mut self, changes: &[CountedChange], now_unix: i64) {
        let mut fresh = Vec::new();
        for change in changes {
            let key = counted_key(&change.id);
            if self
                .marks
                .get(&key)
                .is_none_or(|&expiry| expiry <= now_unix)
            {
                self.marks.insert(key, now_unix + COUNTED_TTL_SECS);
                fresh.push(change);
            }
        }
        for (key, counters) in merged(fresh) {
            let entry = match key {
                CounterKey::Published {
                    region,
                    year,
                    dimension,
                } => self
                    .stats
                    .entry(stats_key(&region, year, &dimension))
                    .or_default(),
                CounterKey::Agency { agency, cell } => self
                    .figures
                    .entry(agency)
                    .or_default()
                    .entry(figures_position(cell))
                    .or_default(),
            };
            for (name, delta) in counters {
                *entry.entry(name).or_default() += delta;
            }
        }
    }
}

fn rule_key(scope: &Scope, category: Category) -> String {
    format!("{}/{}", scope.key(), category.id())
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stored {
    report: Report,
    reporter: Option<Reporter>,
    /// Absent from files written before the keys were kept.
    #[serde(default)]
    contact_keys: ContactKeys,
    events: Vec<Event>,
}

impl MemStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// A store kept in `file`, loaded from it when it exists.
    pub fn persistent(file: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let file = file.into();
        let mut state: State = match std::fs::read(&file) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| StoreError::Backend(format!("cannot read {}: {e}", file.display())))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => State::default(),
            Err(e) => {
                return Err(StoreError::Backend(format!(
                    "cannot read {}: {e}",
                    file.display()
                )))
            }
        };
        state.rebuild_indexes();
        Ok(Self {
            state: Mutex::new(state),
            file: Some(file),
        })
    }

    pub fn report_count(&self) -> usize {
        self.lock().reports.len()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps half-updated: every write builds
        // its result first and swaps it in, so the data behind a poisoned lock is still whole.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Applies `change`, which checks every precondition before it mutates anything. With a
    /// file, the change is made on a copy that becomes current only once it is saved.
    fn write<T>(
        &self,
        change: impl FnOnce(&mut State) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut guard = self.lock();
        let Some(file) = &self.file else {
            return change(&mut guard);
        };
        let mut next = guard.clone();
        let out = change(&mut next)?;
        save(file, &next)?;
        *guard = next;
        Ok(out)
    }
}

fn save(file: &Path, state: &State) -> Result<(), StoreError> {
    let fail =
        |e: std::io::Error| StoreError::Backend(format!("cannot save {}: {e}", file.display()));
    let bytes = serde_json::to_vec(state).map_err(|e| StoreError::Backend(e.to_string()))?;
    let tmp = file.with_extension("tmp");
    // The file holds reporters' identities: readable by its owner only, from its first byte
    // (the rename then replaces any older, wider file).
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut out = options.open(&tmp).map_err(fail)?;
    #[cfg(unix)]
    {
        // A leftover temporary file keeps its old mode through open(): set it.
        use std::os::unix::fs::PermissionsExt;
        out.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(fail)?;
    }
    out.write_all(&bytes).map_err(fail)?;
    out.sync_all().map_err(fail)?;
    std::fs::rename(&tmp, file).map_err(fail)
}

#[async_trait]
impl Reports for MemStore {
    async fn create_report(&self, s: &Submission, now_unix: i64) -> Result<(), StoreError> {
        self.write(|state| {
            if state.reports.contains_key(&s.report.tracking_code) {
                return Err(StoreError::Conflict(Conflict::CodeTaken));
            }
            if let Some(record) = &s.idempotency {
                let live = state
                    .idempotency
                    .get(&record.key_hash)
                    .is_some_and(|r| r.is_live(now_unix));
                if live {
                    return Err(StoreError::Conflict(Conflict::IdempotencyKeyTaken));
                }
                state.purge_expired(now_unix);
                state
                    .idempotency
                    .insert(record.key_hash.clone(), record.clone());
            }
            state.index(None, &s.report);
            state.reports.insert(
                s.report.tracking_code.clone(),
                Stored {
                    report: s.report.clone(),
                    reporter: s.reporter.clone(),
                    // Kept with the identity only, as the DynamoDB store keeps them.
                    contact_keys: if s.reporter.is_some() {
                        s.contact_keys.clone()
                    } else {
                        ContactKeys::default()
                    },
                    events: vec![s.event.clone()],
                },
            );
            Ok(())
        })
    }

    async fn idempotency_record(
        &self,
        key_hash: &str,
        now_unix: i64,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        Ok(self
            .lock()
            .idempotency
            .get(key_hash)
            .filter(|r| r.is_live(now_unix))
            .cloned())
    }

    async fn report(&self, code: &TrackingCode) -> Result<Option<Report>, StoreError> {
        Ok(self.lock().reports.get(code).map(|s| s.report.clone()))
    }

    async fn report_with_timeline(
        &self,
        code: &TrackingCode,
    ) -> Result<Option<ReportWithTimeline>, StoreError> {
        Ok(self.lock().reports.get(code).map(|s| ReportWithTimeline {
            report: s.report.clone(),
            timeline: s.events.clone(),
        }))
    }

    async fn update_report(
        &self,
        old: &Report,
        new: &Report,
        events: &[Event],
    ) -> Result<(), StoreError> {
        self.write(|state| {
            let stored = state
                .reports
                .get_mut(&new.tracking_code)
                .ok_or(StoreError::Conflict(Conflict::VersionMismatch))?;
            if stored.report.version != old.version {
                return Err(StoreError::Conflict(Conflict::VersionMismatch));
            }
            if events
                .iter()
                .any(|e| stored.events.iter().any(|known| known.seq == e.seq))
            {
                return Err(StoreError::Conflict(Conflict::VersionMismatch));
            }
            let before = std::mem::replace(&mut stored.report, new.clone());
            stored.events.extend_from_slice(events);
            state.index(Some(&before), new);
            Ok(())
        })
    }

    async fn recent_public(&self, limit: usize) -> Result<Vec<Report>, StoreError> {
        let state = self.lock();
        Ok(state
            .feed
            .values()
            .rev()
            .filter_map(|code| state.reports.get(code).map(|s| s.report.clone()))
            .take(limit)
            .collect())
    }

    async fn public_between(
        &self,
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page, StoreError> {
        let after = cursor.map(decode_cursor).transpose()?;
        let (lowest, highest) = feed_window(from, to);
        if lowest > highest {
            return Ok(Page {
                reports: Vec::new(),
                next: None,
            });
        }
        let state = self.lock();
        let found: Vec<(&String, &TrackingCode)> = state
            .feed
            .range(lowest..=highest)
            .rev()
            .filter(|(position, _)| after.as_ref().is_none_or(|a| *position < a))
            .take(limit)
            .collect();
        let next = (limit > 0 && found.len() == limit)
            .then(|| found.last().map(|(position, _)| encode_cursor(position)))
            .flatten();
        let reports = found
            .iter()
            .filter_map(|(_, code)| state.reports.get(*code).map(|s| s.report.clone()))
            .collect();
        Ok(Page { reports, next })
    }
}

#[async_trait]
impl ReporterIdentity for MemStore {
    async fn reporter_with_keys(
        &self,
        code: &TrackingCode,
    ) -> Result<Option<(Reporter, ContactKeys)>, StoreError> {
        Ok(self.lock().reports.get(code).and_then(|s| {
            s.reporter
                .clone()
                .map(|reporter| (reporter, s.contact_keys.clone()))
        }))
    }
}

#[async_trait]
impl AgencyDirectory for MemStore {
    async fn put_directory(&self, directory: &Directory) -> Result<(), StoreError> {
        self.write(|state| {
            for agency in directory.agencies() {
                state.agencies.insert(agency.id.clone(), agency.clone());
            }
            for ((scope, category), agency) in directory.rules() {
                state.rules.insert(rule_key(&scope, category), agency);
            }
            Ok(())
        })
    }

    async fn agency(&self, id: &AgencyId) -> Result<Option<Agency>, StoreError> {
        Ok(self.lock().agencies.get(id).cloned())
    }

    async fn children(&self, id: &AgencyId) -> Result<Vec<AgencyId>, StoreError> {
        Ok(self
            .lock()
            .agencies
            .values()
            .filter(|a| a.parent.as_ref() == Some(id))
            .map(|a| a.id.clone())
            .collect())
    }

    async fn agencies(&self) -> Result<Vec<Agency>, StoreError> {
        Ok(self.lock().agencies.values().cloned().collect())
    }

    async fn route(
        &self,
        region: &RegionCode,
        category: Category,
    ) -> Result<Option<AgencyId>, StoreError> {
        let state = self.lock();
        Ok(Scope::fallbacks(region)
            .iter()
            .find_map(|scope| state.rules.get(&rule_key(scope, category)).cloned()))
    }
}

#[async_trait]
impl Statistics for MemStore {
    async fn count(&self, changes: &[CountedChange], now_unix: i64) -> Result<(), StoreError> {
        self.write(|state| {
            state.purge_expired(now_unix);
            state.count(changes, now_unix);
            Ok(())
        })
    }

    async fn stats(
        &self,
        region: &RegionCode,
        year: i32,
        group: GroupBy,
    ) -> Result<Vec<StatsRow>, StoreError> {
        let prefix = stats_key(region.as_str(), year, group.prefix());
        Ok(self
            .lock()
            .stats
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, counters)| StatsRow::from_counters(k[prefix.len()..].to_string(), counters))
            .filter(|row| row.total != 0)
            .collect())
    }

    async fn agency_figures(
        &self,
        agencies: &[AgencyId],
        since: NaiveDate,
    ) -> Result<Vec<AgencyFigures>, StoreError> {
        let state = self.lock();
        let window = figures_day(since)..=FIGURES_LAST.to_string();
        Ok(agencies
            .iter()
            .map(|agency| {
                let mut figures = AgencyFigures::empty(agency.clone());
                let items = state
                    .figures
                    .get(agency)
                    .into_iter()
                    .flat_map(|items| items.range(window.clone()));
                for (position, counters) in items {
                    if let Some(cell) = figures_cell(position) {
                        figures.add_cell(cell, counters);
                    }
                }
                figures
            })
            .collect())
    }
}

#[async_trait]
impl QueueIndex for MemStore {
    async fn read_queue(
        &self,
        queue: &Queue,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<Report>, bool), StoreError> {
        let state = self.lock();
        let mut matching: Vec<(String, &Report)> = state
            .reports
            .values()
            .map(|s| &s.report)
            .filter(|r| queue.holds(r))
            .map(|r| (queue_position(r), r))
            .filter(|(key, _)| after.is_none_or(|a| key.as_str() < a))
            .collect();
        matching.sort_by(|a, b| b.0.cmp(&a.0));
        let more = matching.len() > limit;
        matching.truncate(limit);
        Ok((matching.into_iter().map(|(_, r)| r.clone()).collect(), more))
    }

    async fn overdue_page(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<DuePage, StoreError> {
        let after = cursor.map(decode_cursor).transpose()?;
        let bound = due_bound(now);
        let state = self.lock();
        let mut codes = Vec::new();
        for (key, code) in state.due.range(after.clone().unwrap_or_default()..) {
            if *key >= bound || codes.len() > limit {
                break;
            }
            if after.as_ref() == Some(key) {
                continue;
            }
            codes.push((key.clone(), code.clone()));
        }
        let more = codes.len() > limit;
        codes.truncate(limit);
        let next = if more {
            codes.last().map(|(k, _)| encode_cursor(k))
        } else {
            None
        };
        let reports: Vec<Report> = codes
            .iter()
            .filter_map(|(_, c)| state.reports.get(c).map(|s| s.report.clone()))
            .collect();
        Ok(DuePage {
            read: reports.len(),
            reports,
            next,
            unreadable: 0,
        })
    }
}

#[async_trait]
impl Marks for MemStore {
    async fn mark_once(&self, key: &str, now_unix: i64, ttl_secs: i64) -> Result<bool, StoreError> {
        self.write(|state| {
            if state
                .marks
                .get(key)
                .is_some_and(|&expiry| expiry > now_unix)
            {
                return Ok(false);
            }
            state.purge_expired(now_unix);
            state.marks.insert(key.to_string(), now_unix + ttl_secs);
            Ok(true)
        })
    }

    async fn is_marked(&self, key: &str, now_unix: i64) -> Result<bool, StoreError> {
        Ok(self
            .lock()
            .marks
            .get(key)
            .is_some_and(|&expiry| expiry > now_unix))
    }

    async fn count_hit(&self, key: &str, now_unix: i64, ttl_secs: i64) -> Result<u64, StoreError> {
        self.write(|state| {
            state.purge_expired(now_unix);
            let counter = state
                .hits
                .entry(key.to_string())
                .or_insert((0, now_unix + ttl_secs));
            if counter.1 <= now_unix {
                *counter = (0, now_unix + ttl_secs);
            }
            counter.0 += 1;
            Ok(counter.0)
        })
    }
}

#[async_trait]
impl PartnerKeys for MemStore {
    async fn add_partner_key(&self, key: &PartnerKey) -> Result<(), StoreError> {
        self.write(|state| {
            if state.partner_keys.contains_key(&key.id) {
                return Err(StoreError::Conflict(Conflict::PartnerKeyTaken));
            }
            state.partner_keys.insert(key.id.clone(), key.clone());
            Ok(())
        })
    }

    async fn partner_key(&self, id: &PartnerKeyId) -> Result<Option<PartnerKey>, StoreError> {
        Ok(self.lock().partner_keys.get(id).cloned())
    }

    async fn revoke_partner_key(
        &self,
        id: &PartnerKeyId,
        at: chrono::DateTime<chrono::FixedOffset>,
    ) -> Result<Option<PartnerKey>, StoreError> {
        self.write(|state| {
            Ok(state.partner_keys.get_mut(id).map(|key| {
                key.revoked_at.get_or_insert(at);
                key.clone()
            }))
        })
    }

    async fn partner_keys(&self) -> Result<Vec<PartnerKey>, StoreError> {
        let mut keys: Vec<PartnerKey> = self.lock().partner_keys.values().cloned().collect();
        keys.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::submit::file_report;
    use lapor_core::report::{Channel, ReportDraft};
    use lapor_core::{Deadlines, KeyPepper};

    const IDENTITY: [&str; 4] = ["Siti", "Aminah", "812345678", "siti.aminah@example.id"];

    fn new_report() -> lapor_core::NewReport {
        let body = serde_json::json!({
            "type": "pengaduan",
            "title": "Jalan berlubang di Jalan Cipto",
            "description": "Lubang besar di depan pasar sudah dua minggu, membahayakan pengendara motor.",
            "category": "infrastruktur",
            "region": "32.74",
            "privacy": "publik",
            "reporter": {"name": "Siti Aminah", "phone": "0812-3456-7890", "email": "siti.aminah@example.id"}
        });
        let map = body.as_object().cloned().unwrap_or_default();
        match ReportDraft(&map).validate(Channel::Web) {
            Ok(new) => new,
            Err(e) => panic!("sample report: {}", e.message.en),
        }
    }

    fn assert_no_identity(debug: &str) {
        for piece in IDENTITY {
            assert!(!debug.contains(piece), "{piece:?} in {debug}");
        }
    }

    #[tokio::test]
    async fn a_submission_and_the_store_state_redact_identity_in_debug() {
        let new = new_report();
        let now = chrono::Utc::now();
        let deadlines = Deadlines::indonesia();
        let (report, reporter, event) = lapor_core::Report::open(
            new.clone(),
            lapor_core::TrackingCode::generate(&mut rand::rng()),
            lapor_core::AccessKey::generate(&mut rand::rng()).hash(),
            now,
            &deadlines,
        );
        assert!(reporter.is_some(), "the sample has a reporter to hide");
        let pepper = KeyPepper::new(vec![7; 32]).expect("pepper");
        let contact_keys = reporter
            .as_ref()
            .map(|r| pepper.contact_keys(r))
            .unwrap_or_default();
        let submission = Submission {
            report,
            reporter,
            contact_keys,
            event,
            idempotency: None,
        };
        let debug = format!("{submission:?}");
        assert_no_identity(&debug);
        let keys = [
            &submission.contact_keys.sms_out,
            &submission.contact_keys.mail_out,
        ];
        assert!(keys.iter().all(|k| k.is_some()), "the sample has both");
        for key in keys.into_iter().flatten() {
            assert!(!debug.contains(key.as_str()), "a contact key in {debug}");
        }

        let store = MemStore::new();
        file_report(&store, &new, None, &pepper.into(), &deadlines, now)
            .await
            .expect("filed");
        let debug = format!("{store:?}");
        assert!(
            debug.contains("Reporter"),
            "the state holds the reporter: {debug}"
        );
        assert_no_identity(&debug);
    }
}
