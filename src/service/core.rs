//! The service: one `handle(caller, request)` behind every face. Reads are answered from the
//! store's indexes (a page at a time); mutations are gated by role, audited whether allowed or
//! refused, and carried out by the engine (see `mutations`).

use std::collections::HashMap;
use std::sync::Arc;

use crate::config::AccessConfig;
use crate::domain::access::Permission;
use crate::domain::audit::{Actor, AuditOutcome};
use crate::domain::ids::{LinkId, TiktokOrderId};
use crate::domain::order::{Flow, FlowStatus, ShippingType};
use crate::domain::settings::SettingKey;
use crate::domain::text::{sanitize, sanitize_multiline, truncate};
use crate::domain::triage::OrderView;
use crate::engine::Engine;
use crate::store::{CancellationQuery as StoreCancellationQuery, ViewQuery};

use super::api::*;
use super::rows::{Filter, cancellation_row, order_row};

/// Raw payloads larger than this are cut in the detail view.
const RAW_LIMIT: usize = 64 * 1024;

pub struct Service {
    pub(crate) engine: Arc<Engine>,
    pub(crate) access: AccessConfig,
    pub(crate) two_person: bool,
    pub(crate) daemon: bool,
    /// Serializes approve/reject: the request's state is read, checked and changed as one
    /// step, so two operators deciding at once cannot both run (or run and reject) it.
    pub(crate) decisions: tokio::sync::Mutex<()>,
    /// What bounds the cost of clients: refusal counts, reads in flight (see `limits`).
    pub(crate) limits: super::limits::Limits,
}

impl Service {
    pub fn new(
        engine: Arc<Engine>,
        access: AccessConfig,
        two_person: bool,
        daemon: bool,
    ) -> Arc<Service> {
        Arc::new(Service {
            engine,
            access,
            two_person,
            daemon,
            decisions: tokio::sync::Mutex::new(()),
            limits: Default::default(),
        })
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    pub fn access(&self) -> &AccessConfig {
        &self.access
    }

    pub async fn handle(&self, caller: &Actor, request: Request) -> Result<Response, ServiceError> {
        if let Request::Hello { .. } = request {
            return Ok(Response::Welcome(self.welcome(caller)));
        }
        self.admit(caller, &request)?;
        if request.is_mutation() {
            return self.mutate(caller, request).await;
        }
        self.require(caller, Permission::Read, "read", &[], None)?;
        let store = self.engine.store();
        let now = self.engine.now();
        match request {
            Request::Overview => self.overview().map(Response::Overview),
            Request::Orders(q) => self.orders(q).map(Response::Orders),
            Request::Cancellations(q) => self.cancellations(q).map(Response::Cancellations),
            Request::Requests(q) => {
                let page = store
                    .requests(q.pending_only, q.offset, clamp(q.limit))
                    .map_err(ServiceError::internal)?;
                Ok(Response::Requests(Paged {
                    total: page.total,
                    offset: q.offset,
                    rows: page.items,
                }))
            }
            Request::Order { id } => self
                .detail(caller, &id)
                .map(|d| Response::Order(Box::new(d))),
            Request::Audit(q) => self.audit(&q).map(Response::Audit),
            Request::Activity(q) => self.activity(&q).map(Response::Activity),
            Request::Settings { link } => self.settings_view(&link).map(Response::Settings),
            Request::Subscribe => Ok(Response::Subscribed),
            other => Err(ServiceError::invalid(format!(
                "unexpected request {other:?} at {now}"
            ))),
        }
    }

    fn welcome(&self, caller: &Actor) -> Welcome {
        Welcome {
            protocol: PROTOCOL_VERSION,
            user: caller.user.clone(),
            uid: caller.uid,
            role: caller.role,
            two_person: self.two_person,
            daemon: self.daemon,
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }

    /// Refuses (and audits the refusal of) what `caller`'s role does not allow.
    pub(crate) fn require(
        &self,
        caller: &Actor,
        permission: Permission,
        action: &str,
        targets: &[String],
        reason: Option<&str>,
    ) -> Result<(), ServiceError> {
        if caller.role.is_some_and(|r| r.may(permission)) {
            return Ok(());
        }
        let why = crate::domain::access::refusal(caller.role, permission);
        if permission == Permission::Read {
            return Err(ServiceError::Refused { message: why });
        }
        Err(self.refused(caller, action, targets.to_vec(), reason, why))
    }

    /// Audits a refusal (a role or a rule said no), or counts it in a flood (see `refusals`),
    /// and returns the error to send.
    pub(crate) fn refused(
        &self,
        caller: &Actor,
        action: &str,
        targets: Vec<String>,
        reason: Option<&str>,
        why: String,
    ) -> ServiceError {
        let entry = crate::domain::audit::AuditEntry::new(
            self.engine.now(),
            caller.clone(),
            action,
            targets,
            AuditOutcome::Refused { why: why.clone() },
        )
        .with_reason(reason.map(str::to_string));
        self.audit_refusal(entry);
        ServiceError::Refused { message: why }
    }

    fn overview(&self) -> Result<Overview, ServiceError> {
        let store = self.engine.store();
        let now = self.engine.now();
        let lookup = self.engine.settings_lookup();
        let far = now + chrono::Duration::days(3650);
        let mut queued: HashMap<LinkId, usize> = HashMap::new();
        for job in store
            .due_jobs(far, usize::MAX)
            .map_err(ServiceError::internal)?
        {
            *queued.entry(job.link).or_default() += 1;
        }
        let mut links = Vec::new();
        for link in self.engine.links() {
            let record = store.link(&link.id).map_err(ServiceError::internal)?;
            let counts = store
                .counts(Some(&link.id), now, &lookup)
                .map_err(ServiceError::internal)?;
            let waiting = store
                .cancellations(&StoreCancellationQuery {
                    link: Some(&link.id),
                    awaiting_seller_only: true,
                    offset: 0,
                    limit: 0,
                })
                .map_err(ServiceError::internal)?
                .total;
            let tokens = link.marketplace.tokens();
            let count = |v: OrderView| counts.get(&v).copied().unwrap_or_default();
            links.push(LinkHealth {
                link: link.id.clone(),
                shop: link.shop.to_string(),
                store: link.store_name.to_string(),
                platform: link.platform,
                region: link.region.clone(),
                last_poll_ok: record.as_ref().and_then(|r| r.last_poll),
                last_poll_error: record
                    .as_ref()
                    .and_then(|r| r.last_error.as_ref())
                    .map(|e| sanitize(&e.message)),
                errors_last_hour: self
                    .engine
                    .activity()
                    .errors_since(&link.id, now - chrono::Duration::hours(1))
                    as u32,
                queue_depth: queued.get(&link.id).copied().unwrap_or_default(),
                stuck_jobs: count(OrderView::Stuck),
                access_expires_at: tokens.access_expires_at,
                authorization_expires_at: tokens.refresh_expires_at,
                counts: ViewCounts {
                    pending: count(OrderView::Pending),
                    missing_tracking: count(OrderView::MissingTracking),
                    stuck: count(OrderView::Stuck),
                    cancellations_waiting: waiting,
                    all: count(OrderView::All),
                },
            });
        }
        let pending_requests = store
            .requests(true, 0, 0)
            .map_err(ServiceError::internal)?
            .total;
        Ok(Overview {
            now,
            links,
            pending_requests,
            generation: self.engine.generation(),
        })
    }

    fn orders(&self, q: OrderQuery) -> Result<Paged<OrderRow>, ServiceError> {
        let store = self.engine.store();
        let now = self.engine.now();
        let lookup = self.engine.settings_lookup();
        let limit = clamp(q.limit);
        let filter = Filter::parse(q.filter.as_deref().unwrap_or(""));
        let plain = filter.is_empty() && q.sort == OrderColumn::Default && q.dir == SortDir::Asc;
        if plain {
            let query = ViewQuery {
                view: q.view,
                link: q.link.as_ref(),
                offset: q.offset,
                limit,
                now,
            };
            let page = store
                .page_view(&query, &lookup)
                .map_err(ServiceError::internal)?;
            let rows = page
                .items
                .iter()
                .map(|o| order_row(o, q.view, now))
                .collect();
            return Ok(Paged {
                total: page.total,
                offset: q.offset,
                rows,
            });
        }
        // Filtered or re-sorted: walk the view's index range (never the whole orders tree),
        // decoding only the orders the filter may match.
        let query = ViewQuery {
            view: q.view,
            link: q.link.as_ref(),
            offset: 0,
            limit: usize::MAX,
            now,
        };
        let orders = if filter.is_empty() {
            store.page_view(&query, &lookup).map(|page| page.items)
        } else {
            store.view_matching(&query, &lookup, &filter.pre_check())
        }
        .map_err(ServiceError::internal)?;
        let mut rows: Vec<OrderRow> = orders
            .iter()
            .map(|o| order_row(o, q.view, now))
            .filter(|r| filter.matches_order(r))
            .collect();
        match q.sort {
            OrderColumn::Default => {}
            OrderColumn::Id => rows.sort_by(|a, b| a.id.cmp(&b.id)),
            OrderColumn::Link => rows.sort_by(|a, b| a.link.cmp(&b.link)),
            OrderColumn::Status => rows.sort_by(|a, b| a.tiktok_status.cmp(&b.tiktok_status)),
            OrderColumn::Created => rows.sort_by_key(|r| r.created_at),
            OrderColumn::ShipBy => {
                rows.sort_by_key(|r| r.ship_by.map(|t| t.timestamp()).unwrap_or(i64::MAX))
            }
        }
        if q.dir == SortDir::Desc {
            rows.reverse();
        }
        let total = rows.len();
        let rows = rows.into_iter().skip(q.offset).take(limit).collect();
        Ok(Paged {
            total,
            offset: q.offset,
            rows,
        })
    }

    fn cancellations(&self, q: CancellationQuery) -> Result<Paged<CancellationRow>, ServiceError> {
        let store = self.engine.store();
        let now = self.engine.now();
        let limit = clamp(q.limit);
        let filter = Filter::parse(q.filter.as_deref().unwrap_or(""));
        let (offset, take) = if filter.is_empty() {
            (q.offset, limit)
        } else {
            (0, usize::MAX)
        };
        let page = store
            .cancellations(&StoreCancellationQuery {
                link: q.link.as_ref(),
                awaiting_seller_only: q.waiting_only,
                offset,
                limit: take,
            })
            .map_err(ServiceError::internal)?;
        let rows: Vec<CancellationRow> = page
            .items
            .iter()
            .map(|c| cancellation_row(c, now))
            .collect();
        if filter.is_empty() {
            return Ok(Paged {
                total: page.total,
                offset: q.offset,
                rows,
            });
        }
        let rows: Vec<CancellationRow> = rows
            .into_iter()
            .filter(|r| filter.matches_cancellation(r))
            .collect();
        let total = rows.len();
        Ok(Paged {
            total,
            offset: q.offset,
            rows: rows.into_iter().skip(q.offset).take(limit).collect(),
        })
    }

    fn detail(&self, caller: &Actor, id: &TiktokOrderId) -> Result<OrderDetail, ServiceError> {
        let store = self.engine.store();
        let order = store
            .order(id)
            .map_err(ServiceError::internal)?
            .ok_or_else(|| {
                ServiceError::not_found(format!("order {id} is not in orderdeck's store"))
            })?;
        let platform = self
            .engine
            .link(&order.link)
            .map(|l| l.platform)
            .unwrap_or(crate::domain::platform::Platform::Shopify);
        let cancellations = store.cancellations_of(id).map_err(ServiceError::internal)?;
        let jobs = store.jobs_of(id).map_err(ServiceError::internal)?;
        let raw = store.payload(id).map_err(ServiceError::internal)?.map(|v| {
            truncate(
                &sanitize_multiline(&serde_json::to_string_pretty(&v).unwrap_or_default()),
                RAW_LIMIT,
            )
        });
        let mut diagnosis = Vec::new();
        for flow in Flow::ALL {
            let state = order.flows.get(flow);
            match &state.status {
                FlowStatus::Stuck { reason } => {
                    diagnosis.push(format!("{} is stuck: {}", flow.name(), sanitize(reason)));
                    diagnosis.push(format!("  fix: {}", fix_hint(reason)));
                }
                FlowStatus::Waiting { why } => {
                    diagnosis.push(format!("{} waits: {}", flow.name(), sanitize(why)))
                }
                FlowStatus::Skipped { why } => {
                    diagnosis.push(format!("{} skipped: {}", flow.name(), sanitize(why)))
                }
                FlowStatus::Queued if state.last_error.is_some() => {
                    let e = state.last_error.as_ref().expect("checked");
                    diagnosis.push(format!(
                        "{} retrying (attempt {}): {}",
                        flow.name(),
                        state.attempts,
                        sanitize(&e.message)
                    ));
                }
                _ => {}
            }
            if let Some(e) = &state.last_error
                && let Some(request_id) = &e.request_id
            {
                diagnosis.push(format!("  platform request id: {}", sanitize(request_id)));
            }
        }
        let may = |p: Permission| caller.role.is_some_and(|r| r.may(p));
        let mut actions = Vec::new();
        if may(Permission::RequestResync) {
            actions.push("resync".to_string());
        }
        if may(Permission::RetryStuckJob) && order.flows.stuck().is_some() {
            actions.push("retry".to_string());
        }
        if may(Permission::ReprintLabel) && order.tiktok.shipping_type == ShippingType::Tiktok {
            actions.push("reprint label".to_string());
        }
        if may(Permission::RespondBuyerCancel) && cancellations.iter().any(|c| c.awaits_seller()) {
            actions.push("approve/reject buyer cancel".to_string());
        }
        Ok(OrderDetail {
            order,
            platform,
            cancellations,
            jobs,
            raw,
            diagnosis,
            actions,
        })
    }

    fn audit(
        &self,
        q: &AuditQuery,
    ) -> Result<Paged<crate::domain::audit::AuditEntry>, ServiceError> {
        let limit = clamp(q.limit);
        let (total, newest) = self.newest_audit(q, q.offset + limit)?;
        Ok(Paged {
            total,
            offset: q.offset,
            rows: newest.into_iter().skip(q.offset).take(limit).collect(),
        })
    }

    /// The newest `take` audit entries that match `q`'s `since` and filter (its paging is
    /// ignored), newest first, and how many match in all. Without a filter or `since` this
    /// reads only `take` entries.
    fn newest_audit(
        &self,
        q: &AuditQuery,
        take: usize,
    ) -> Result<(usize, Vec<crate::domain::audit::AuditEntry>), ServiceError> {
        let store = self.engine.store();
        let filter = Filter::parse(q.filter.as_deref().unwrap_or(""));
        if q.since.is_none() && filter.is_empty() {
            let newest = store
                .audit_page(None, take)
                .map_err(ServiceError::internal)?;
            return Ok((
                self.audit_total()?,
                newest.into_iter().map(|r| r.entry).collect(),
            ));
        }
        let records = match q.since {
            Some(since) => {
                let mut oldest_first = store
                    .audit_since(since, usize::MAX)
                    .map_err(ServiceError::internal)?;
                oldest_first.reverse();
                oldest_first
            }
            None => store
                .audit_page(None, usize::MAX)
                .map_err(ServiceError::internal)?,
        };
        let mut matching: Vec<_> = records
            .into_iter()
            .map(|r| r.entry)
            .filter(|e| filter.is_empty() || filter.matches_text(&audit_text(e)))
            .collect();
        let total = matching.len();
        matching.truncate(take);
        Ok((total, matching))
    }

    fn audit_total(&self) -> Result<usize, ServiceError> {
        Ok(self.engine.store().audit_len())
    }

    fn activity(&self, q: &AuditQuery) -> Result<Paged<ActivityItem>, ServiceError> {
        let limit = clamp(q.limit);
        let want = q.offset + limit;
        // Both sources are newest first: the page's rows are among the first `want` of each.
        let (audit_total, audit) = self.newest_audit(q, want)?;
        let (engine_total, events) = self.engine.activity().page(q.filter.as_deref(), 0, want);
        let mut items: Vec<ActivityItem> = audit.iter().map(audit_item).collect();
        items.extend(
            events
                .into_iter()
                .filter(|e| q.since.is_none_or(|s| e.at >= s))
                .map(|e| ActivityItem {
                    at: e.at,
                    source: "engine".into(),
                    level: format!("{:?}", e.level).to_lowercase(),
                    who: "orderdeck".into(),
                    link: e.link,
                    order: e.order,
                    text: e.text,
                }),
        );
        items.sort_by_key(|item| std::cmp::Reverse(item.at));
        Ok(Paged {
            total: audit_total + engine_total,
            offset: q.offset,
            rows: items.into_iter().skip(q.offset).take(limit).collect(),
        })
    }

    pub(crate) fn settings_view(&self, link: &LinkId) -> Result<SettingsView, ServiceError> {
        let runtime = self.engine.link(link).ok_or_else(|| {
            ServiceError::not_found(format!("link {link} is not in orderdeck.toml"))
        })?;
        let record = self.engine.settings_record(link);
        let fields = SettingKey::ALL
            .into_iter()
            .filter(|k| k.applies_to(runtime.platform))
            .map(|k| {
                (
                    k.name().to_string(),
                    record.settings.value_text(k),
                    k.description().to_string(),
                )
            })
            .collect();
        Ok(SettingsView {
            link: link.clone(),
            platform: runtime.platform,
            version: record.version,
            settings: record.settings,
            fields,
        })
    }
}

fn clamp(limit: usize) -> usize {
    limit.clamp(1, MAX_PAGE)
}

/// What a person can do about a stuck flow, from its reason.
fn fix_hint(reason: &str) -> &'static str {
    if reason.contains("has no variant")
        || reason.contains("matches") && reason.contains("variants")
    {
        "add the SKU to the store (or fix the seller SKU on TikTok), then retry the stuck job"
    } else if reason.contains("carrier") {
        "map the store's carrier to a TikTok shipping provider in Settings (carrier_map), then retry"
    } else if reason.contains("credentials") || reason.contains("re-authorize") {
        "update the credentials in orderdeck.toml and restart the daemon, then retry"
    } else if reason.contains("address") {
        "the buyer's address is incomplete on TikTok: contact the buyer or TikTok support"
    } else {
        "fix the cause named above, then retry the stuck job (or ask for a resync)"
    }
}

fn audit_text(e: &crate::domain::audit::AuditEntry) -> String {
    format!(
        "{} {} {} {}",
        e.actor.user,
        e.action,
        e.targets.join(" "),
        e.reason.as_deref().unwrap_or("")
    )
}

fn audit_item(e: &crate::domain::audit::AuditEntry) -> ActivityItem {
    let (level, result) = match &e.outcome {
        AuditOutcome::Ok { detail } => ("ok", detail.clone().unwrap_or_default()),
        AuditOutcome::Refused { why } => ("refused", why.clone()),
        AuditOutcome::Failed { error } => ("failed", error.clone()),
    };
    let reason = e
        .reason
        .as_deref()
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    ActivityItem {
        at: e.at,
        source: "audit".into(),
        level: level.into(),
        who: sanitize(&e.actor.user),
        link: None,
        order: e
            .targets
            .first()
            .and_then(|t| TiktokOrderId::new(t.clone()).ok()),
        text: truncate(
            &sanitize(&format!(
                "{} {}{reason}: {result}",
                e.action,
                e.targets.join(", ")
            )),
            300,
        ),
    }
}
