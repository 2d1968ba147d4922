//! Point reads and small ordered lists: orders, payloads, jobs, requests, audit pages, links,
//! settings, watermarks; id allocation; and the open-time release of jobs a dead process left
//! `Running`. Lists use an index or the key order of their tree, never a scan of `orders`.

use serde::de::DeserializeOwned;

use super::change::{read_counter, write_counter};
use super::codec;
use super::keys;
use super::records::{AuditCursor, AuditRecord, LinkRecord, Page, SettingsRecord, Watermark};
use super::{Change, Result, Store, StoreError, TreeId, meta};
use crate::domain::cancellation::{Cancellation, CancellationKey};
use crate::domain::cause::StuckCause;
use crate::domain::clock::Timestamp;
use crate::domain::ids::{JobId, LinkId, RequestId, TiktokOrderId};
use crate::domain::job::Job;
use crate::domain::order::{Flow, Order};
use crate::domain::request::ResyncRequest;

impl Store {
    /// Reads and decodes one record.
    pub(super) fn get<T: DeserializeOwned>(&self, tree: TreeId, key: &[u8]) -> Result<Option<T>> {
        match self
            .tree(tree)
            .get(key)
            .map_err(StoreError::sled("reading"))?
        {
            Some(bytes) => codec::decode(tree.name(), key, &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Reads the records an index range points at, in the range's order. A record removed
    /// between the index read and this one (sled reads are not snapshots) is left out; an entry
    /// whose record never existed is index damage, which the integrity check reports.
    pub(super) fn listed<T: DeserializeOwned>(
        &self,
        tree: TreeId,
        keys: impl IntoIterator<Item = impl AsRef<[u8]>>,
    ) -> Result<Vec<T>> {
        let mut records = Vec::new();
        for key in keys {
            records.extend(self.get(tree, key.as_ref())?);
        }
        Ok(records)
    }

    /// The keys of an index range, each cut to the primary key it ends with.
    fn index_keys(
        items: impl Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>,
        primary_len: usize,
        op: &'static str,
    ) -> Result<Vec<sled::IVec>> {
        items
            .map(|item| {
                let (key, _) = item.map_err(StoreError::sled(op))?;
                let start = key.len().saturating_sub(primary_len);
                Ok(key.subslice(start, key.len() - start))
            })
            .collect()
    }

    /// Decodes every record of a tree, in key order.
    fn all<T: DeserializeOwned>(&self, tree: TreeId) -> Result<Vec<T>> {
        self.tree(tree)
            .iter()
            .map(|item| {
                let (key, bytes) = item.map_err(StoreError::sled("scanning"))?;
                codec::decode(tree.name(), &key, &bytes)
            })
            .collect()
    }

    pub fn order(&self, id: &TiktokOrderId) -> Result<Option<Order>> {
        self.get(TreeId::Orders, id.as_str().as_bytes())
    }

    /// The platform's raw JSON of an order, as last stored.
    pub fn payload(&self, id: &TiktokOrderId) -> Result<Option<serde_json::Value>> {
        self.get(TreeId::Payloads, id.as_str().as_bytes())
    }

    pub fn cancellation(&self, key: &CancellationKey) -> Result<Option<Cancellation>> {
        self.get(TreeId::Cancellations, &keys::cancellation_key(key))
    }

    pub fn job(&self, id: JobId) -> Result<Option<Job>> {
        self.get(TreeId::Jobs, &keys::job_key(id))
    }

    /// `Ready` jobs with `run_after <= now`, in due order (ties by id), at most `limit`.
    pub fn due_jobs(&self, now: Timestamp, limit: usize) -> Result<Vec<Job>> {
        let range = self
            .tree(TreeId::IdxJobsDue)
            .range(..=keys::due_upper_bound(now));
        let ids = Store::index_keys(range.take(limit), 8, "scanning due jobs")?;
        self.listed(TreeId::Jobs, ids)
    }

    /// Up to `limit` of `link`'s ready jobs due by `now`, earliest first.
    pub fn due_jobs_of_link(
        &self,
        link: &LinkId,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<Job>> {
        let range = self
            .tree(TreeId::IdxJobsDueLink)
            .range(keys::link_prefix(link)..=keys::link_due_upper_bound(link, now));
        let ids = Store::index_keys(range.take(limit), 8, "scanning a link's due jobs")?;
        self.listed(TreeId::Jobs, ids)
    }

    /// How many jobs wait to run (due or not), from the due index: nothing is decoded.
    pub fn ready_job_count(&self) -> Result<usize> {
        let mut count = 0;
        for item in self.tree(TreeId::IdxJobsDue).iter().keys() {
            item.map_err(StoreError::sled("counting ready jobs"))?;
            count += 1;
        }
        Ok(count)
    }

    /// How many of `link`'s jobs wait to run (due or not), from the per-link due index.
    pub fn ready_job_count_of_link(&self, link: &LinkId) -> Result<usize> {
        let mut count = 0;
        for item in self
            .tree(TreeId::IdxJobsDueLink)
            .scan_prefix(keys::link_prefix(link))
            .keys()
        {
            item.map_err(StoreError::sled("counting a link's ready jobs"))?;
            count += 1;
        }
        Ok(count)
    }

    /// The links that have ready jobs (due or not), by skipping from one link's entries to the
    /// next: a few reads however many jobs wait. A damaged entry is stepped over (the integrity
    /// check names it) rather than stopping every claim.
    pub fn links_with_ready_jobs(&self) -> Result<Vec<LinkId>> {
        let mut links = Vec::new();
        let mut from = Vec::new();
        while let Some(item) = self
            .tree(TreeId::IdxJobsDueLink)
            .range(from.as_slice()..)
            .next()
        {
            let (key, _) = item.map_err(StoreError::sled("listing links with ready jobs"))?;
            let link = keys::link_of_due_key(&key)
                .and_then(|name| std::str::from_utf8(name).ok())
                .and_then(|name| LinkId::new(name).ok());
            match link {
                Some(link) => {
                    // Past every key of this link: its name followed by a byte above SEP.
                    from = keys::link_prefix(&link);
                    if let Some(separator) = from.last_mut() {
                        // Past every key of this link: the next link's entries sort after.
                        *separator = keys::SEP + 1;
                    }
                    links.push(link);
                }
                None => {
                    from = key.to_vec();
                    from.push(0);
                }
            }
        }
        Ok(links)
    }

    /// Every cancellation of an order (either direction), in key order.
    pub fn cancellations_of(&self, order: &TiktokOrderId) -> Result<Vec<Cancellation>> {
        let index = TreeId::IdxCancellationsOrder;
        let mut primaries = Vec::new();
        for item in self.tree(index).scan_prefix(keys::order_prefix(order)) {
            let (key, _) = item.map_err(StoreError::sled("scanning cancellations of an order"))?;
            let primary = keys::cancellation_of_order_key(&key)
                .ok_or_else(|| codec::corrupt(index.name(), &key, "key does not parse"))?;
            primaries.push(primary.to_vec());
        }
        self.listed(TreeId::Cancellations, primaries)
    }

    /// The stuck flows of `link` with what each waits on (`idx_stuck_causes`): grouped by
    /// cause, then by order id. One pass over the index; no order is read.
    pub fn stuck_flows(&self, link: &LinkId) -> Result<Vec<(StuckCause, TiktokOrderId, Flow)>> {
        let index = TreeId::IdxStuckCauses;
        let prefix = keys::link_prefix(link);
        let mut flows = Vec::new();
        // A cause's flows are neighbours: each cause is decoded once, kept with its bytes.
        let mut cause: Option<(Vec<u8>, StuckCause)> = None;
        for item in self.tree(index).scan_prefix(&prefix) {
            let (key, _) = item.map_err(StoreError::sled("scanning stuck flows"))?;
            let corrupt = |what: &str| codec::corrupt(index.name(), &key, what);
            let (cause_bytes, order, flow) = keys::stuck_cause_parts(&key[prefix.len()..])
                .ok_or_else(|| corrupt("key does not parse"))?;
            let known = match &cause {
                Some((bytes, known)) if bytes.as_slice() == cause_bytes => known.clone(),
                _ => {
                    let decoded: StuckCause = serde_json::from_slice(cause_bytes)
                        .map_err(|e| corrupt(&format!("the cause does not decode: {e}")))?;
                    cause = Some((cause_bytes.to_vec(), decoded.clone()));
                    decoded
                }
            };
            let order = std::str::from_utf8(order)
                .ok()
                .and_then(|id| TiktokOrderId::new(id).ok())
                .ok_or_else(|| corrupt("not an order id"))?;
            let flow = Flow::ALL
                .into_iter()
                .find(|f| f.name().as_bytes() == flow)
                .ok_or_else(|| corrupt("not a flow"))?;
            flows.push((known, order, flow));
        }
        Ok(flows)
    }

    /// Every job of an order, oldest first.
    pub fn jobs_of(&self, order: &TiktokOrderId) -> Result<Vec<Job>> {
        let range = self
            .tree(TreeId::IdxJobsOrder)
            .scan_prefix(keys::order_prefix(order));
        let ids = Store::index_keys(range, 8, "scanning jobs of an order")?;
        self.listed(TreeId::Jobs, ids)
    }

    /// The jobs of an order still to run or running.
    pub fn live_jobs_of(&self, order: &TiktokOrderId) -> Result<Vec<Job>> {
        let mut jobs = self.jobs_of(order)?;
        jobs.retain(Job::is_live);
        Ok(jobs)
    }

    /// A new job id, never handed out before (also across crashes: see `change::write`).
    pub fn allocate_job_id(&self) -> Result<JobId> {
        self.allocate(meta::JOB_ID_HIGH).map(JobId)
    }

    pub fn allocate_request_id(&self) -> Result<RequestId> {
        self.allocate(meta::REQUEST_ID_HIGH).map(RequestId)
    }

    fn allocate(&self, key: &'static [u8]) -> Result<u64> {
        self.tree(TreeId::Meta)
            .transaction(|meta| {
                let next = read_counter(meta, key)? + 1;
                write_counter(meta, key, next)?;
                Ok(next)
            })
            .map_err(|e| match e {
                sled::transaction::TransactionError::Abort(e) => e,
                sled::transaction::TransactionError::Storage(source) => StoreError::Sled {
                    op: "allocating an id",
                    source,
                },
            })
    }

    pub fn request(&self, id: RequestId) -> Result<Option<ResyncRequest>> {
        self.get(TreeId::Requests, &keys::request_key(id))
    }

    /// Requests newest first, all or only those waiting for a decision.
    pub fn requests(
        &self,
        pending_only: bool,
        offset: usize,
        limit: usize,
    ) -> Result<Page<ResyncRequest>> {
        let tree = if pending_only {
            TreeId::IdxRequestsPending
        } else {
            TreeId::Requests
        };
        let mut total = 0;
        let mut ids = Vec::new();
        for item in self.tree(tree).iter().rev() {
            let (key, _) = item.map_err(StoreError::sled("scanning requests"))?;
            if total >= offset && ids.len() < limit {
                ids.push(key);
            }
            total += 1;
        }
        let items = self.listed(TreeId::Requests, ids)?;
        Ok(Page { total, items })
    }

    /// The requests waiting for a decision that name `order` (the pending index is small: a
    /// request leaves it once decided).
    pub fn pending_requests_of(&self, order: &TiktokOrderId) -> Result<Vec<ResyncRequest>> {
        let pending = self.requests(true, 0, usize::MAX)?.items;
        Ok(pending
            .into_iter()
            .filter(|r| r.targets.contains(order))
            .collect())
    }

    /// Audit entries newest first, starting just before `before` (or at the newest).
    /// How many audit entries there are (counts keys; decodes nothing).
    pub fn audit_len(&self) -> usize {
        self.tree(TreeId::Audit).len()
    }

    pub fn audit_page(
        &self,
        before: Option<AuditCursor>,
        limit: usize,
    ) -> Result<Vec<AuditRecord>> {
        let tree = self.tree(TreeId::Audit);
        let items = match before {
            Some(cursor) => tree.range(..cursor.0).rev(),
            None => tree.iter().rev(),
        };
        items
            .take(limit)
            .map(|item| self.audit_record(item))
            .collect()
    }

    /// Audit entries at or after `since`, oldest first.
    pub fn audit_since(&self, since: Timestamp, limit: usize) -> Result<Vec<AuditRecord>> {
        self.tree(TreeId::Audit)
            .range(keys::audit_lower_bound(since)..)
            .take(limit)
            .map(|item| self.audit_record(item))
            .collect()
    }

    fn audit_record(&self, item: sled::Result<(sled::IVec, sled::IVec)>) -> Result<AuditRecord> {
        let (key, bytes) = item.map_err(StoreError::sled("scanning the audit log"))?;
        let cursor =
            key.as_ref().try_into().map(AuditCursor).map_err(|_| {
                codec::corrupt(TreeId::Audit.name(), &key, "audit key is not 16 bytes")
            })?;
        let entry = codec::decode(TreeId::Audit.name(), &key, &bytes)?;
        Ok(AuditRecord { cursor, entry })
    }

    pub fn link(&self, link: &LinkId) -> Result<Option<LinkRecord>> {
        self.get(TreeId::Links, link.as_str().as_bytes())
    }

    /// Every link record, by name.
    pub fn links(&self) -> Result<Vec<LinkRecord>> {
        self.all(TreeId::Links)
    }

    /// A link's stored settings; `None` if never written (it runs with defaults, version 0).
    pub fn settings(&self, link: &LinkId) -> Result<Option<SettingsRecord>> {
        self.get(TreeId::Settings, link.as_str().as_bytes())
    }

    /// Every link's stored settings, by link name.
    pub fn all_settings(&self) -> Result<Vec<SettingsRecord>> {
        self.all(TreeId::Settings)
    }

    pub fn watermark(&self, link: &LinkId, stream: &str) -> Result<Option<Watermark>> {
        self.get(TreeId::Meta, &keys::watermark_key(link, stream))
    }

    /// At open: jobs still `Running` belong to a process that died (sled lets one process in),
    /// so they go back to `Ready`. The call may have reached the platform before the crash, so
    /// they are marked `maybe_applied`: the runner reads back before writing again.
    pub(super) fn release_running_jobs(&self) -> Result<Vec<JobId>> {
        let running = self.tree(TreeId::IdxJobsRunning);
        let ids = Store::index_keys(running.iter(), 8, "scanning running jobs")?;
        drop(running);
        let mut released: Vec<Job> = self.listed(TreeId::Jobs, ids)?;
        for job in &mut released {
            job.requeue();
            job.maybe_applied = true;
        }
        let ids = released.iter().map(|j| j.id).collect();
        if !released.is_empty() {
            self.apply(&Change {
                jobs: released,
                ..Change::default()
            })?;
        }
        Ok(ids)
    }
}
