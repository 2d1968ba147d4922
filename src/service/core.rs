//! The service: one `handle(caller, request)` behind every face. Reads are answered from the
//! store's indexes (a page at a time); mutations are gated by role, audited whether allowed or
//! refused, and carried out by the engine (see `mutations`).

use std::sync::Arc;

use crate::config::AccessConfig;
use crate::domain::access::Permission;
use crate::domain::audit::{Actor, AuditOutcome};
use crate::domain::ids::{LinkId, TiktokOrderId};
use crate::domain::order::Order;
use crate::domain::settings::SettingKey;
use crate::domain::text::{sanitize, truncate};
use crate::domain::triage::OrderView;
use crate::engine::Engine;
use crate::engine::activity::Level;
use crate::store::{CancellationScan, ListOrder, OrderFilter, ViewQuery};

use super::api::*;
use super::rows::{Filter, cancellation_row, order_row};

/// How many of the newest Activity entries a sort by another column than time orders.
pub const ACTIVITY_SORTED: usize = 10_000;

pub struct Service {
    pub(crate) engine: Arc<Engine>,
    pub(crate) access: AccessConfig,
    pub(crate) two_person: bool,
    pub(crate) daemon: bool,
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
            limits: Default::default(),
        })
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    pub fn access(&self) -> &AccessConfig {
        &self.access
    }

    /// Answers one request. One exhaustive match: a new request must say here whether it
    /// reads (and how) or which plan it runs (see `mutations`).
    pub async fn handle(&self, caller: &Actor, request: Request) -> Result<Response, ServiceError> {
        self.handle_while(caller, request, &|| true).await
    }

    /// [`Service::handle`], where a filtered count stops (and says it was replaced) as soon as
    /// `count_wanted` says a newer count took its place (`reads.rs`).
    pub(crate) async fn handle_while(
        &self,
        caller: &Actor,
        request: Request,
        count_wanted: &(dyn Fn() -> bool + Sync),
    ) -> Result<Response, ServiceError> {
        self.admit(caller, &request).await?;
        let plan = match request {
            Request::Hello { .. } => return Ok(Response::Welcome(self.welcome(caller))),
            Request::Subscribe => return self.read(caller, || Ok(Response::Subscribed)),
            Request::Overview => {
                return self.read(caller, || self.overview().map(Response::Overview));
            }
            Request::Orders(q) => {
                return self.read(caller, || self.orders(q).map(Response::Orders));
            }
            Request::OrderCount(q) => {
                return self.read(caller, || {
                    self.order_count(&q, count_wanted)
                        .map(|total| Response::OrderCount { total })
                });
            }
            Request::Cancellations(q) => {
                return self.read(caller, || {
                    self.cancellations(q).map(Response::Cancellations)
                });
            }
            Request::Requests(q) => return self.read(caller, || self.requests(&q)),
            Request::Order { id } => {
                return self.read(caller, || {
                    self.detail(caller, &id)
                        .map(|d| Response::Order(Box::new(d)))
                });
            }
            Request::FindOrder { text } => {
                return self.read(caller, || self.find_order(&text).map(Response::Orders));
            }
            Request::Audit(q) => return self.read(caller, || self.audit(&q).map(Response::Audit)),
            Request::Activity(q) => {
                return self.read(caller, || self.activity(&q).map(Response::Activity));
            }
            Request::Settings { link } => {
                return self.read(caller, || self.settings_view(&link).map(Response::Settings));
            }
            Request::Resync {
                orders,
                flow,
                reason,
            } => self.plan_resync(caller, orders, flow, reason),
            Request::Decide {
                request,
                approve,
                reason,
            } => self.plan_decide(request, approve, reason),
            Request::RespondBuyerCancel {
                cancel_id,
                approve,
                reject_reason,
                comment,
            } => Service::plan_buyer_cancel_answer(cancel_id, approve, reject_reason, comment),
            Request::ReprintLabel { order, print } => Service::plan_reprint(order, print),
            Request::RetryStuck { orders, reason } => Service::plan_retry(orders, reason),
            Request::MarkParcelHandled {
                order,
                outcome,
                note,
            } => Service::plan_parcel_handled(order, outcome, note),
            Request::RetryCause {
                link,
                cause,
                reason,
            } => Service::plan_retry_cause(link, cause, reason),
            Request::SetSettings {
                link,
                changes,
                expected_version,
                reason,
            } => Service::plan_settings(link, changes, expected_version, reason),
            Request::SyncNow { link } => self.plan_sync(link),
        };
        self.audited(caller, plan).await
    }

    /// A read, for whoever may read (refusals of reads are not audited).
    fn read(
        &self,
        caller: &Actor,
        answer: impl FnOnce() -> Result<Response, ServiceError>,
    ) -> Result<Response, ServiceError> {
        self.may(caller, Permission::Read)
            .map_err(|message| ServiceError::Refused { message })?;
        answer()
    }

    fn requests(&self, q: &RequestQuery) -> Result<Response, ServiceError> {
        let limit = clamp(q.limit);
        let store = self.engine.store();
        if q.sort.is_default() {
            let page = store
                .requests(q.pending_only, q.offset, limit)
                .map_err(ServiceError::internal)?;
            return Ok(Response::Requests(Paged {
                total: page.total,
                offset: q.offset,
                rows: page.items,
                counting: false,
            }));
        }
        let mut rows = store
            .requests(q.pending_only, 0, usize::MAX)
            .map_err(ServiceError::internal)?
            .items;
        super::sorting::sort(&mut rows, q.sort);
        Ok(Response::Requests(Paged {
            total: rows.len(),
            offset: q.offset,
            rows: rows.into_iter().skip(q.offset).take(limit).collect(),
            counting: false,
        }))
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

    /// Whether `caller`'s role allows `permission`; if not, why.
    pub(crate) fn may(&self, caller: &Actor, permission: Permission) -> Result<(), String> {
        if caller.role.is_some_and(|r| r.may(permission)) {
            return Ok(());
        }
        Err(crate::domain::access::refusal(caller.role, permission))
    }

    /// Audits a refusal (a role or a rule said no), or counts it in a flood (see `refusals`),
    /// and returns the error to send.
    pub(crate) async fn refused(
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
        self.audit_refusal(entry).await;
        ServiceError::Refused { message: why }
    }

    pub(crate) fn overview(&self) -> Result<Overview, ServiceError> {
        let store = self.engine.store();
        let now = self.engine.now();
        let lookup = self.engine.settings_lookup();
        let mut links = Vec::new();
        for link in self.engine.links() {
            let record = store.link(&link.id).map_err(ServiceError::internal)?;
            let counts = store
                .counts(Some(&link.id), now, &lookup)
                .map_err(ServiceError::internal)?;
            let waiting = store
                .cancellations(&CancellationScan {
                    link: Some(&link.id),
                    awaiting_seller_only: true,
                    offset: 0,
                    limit: 0,
                })
                .map_err(ServiceError::internal)?
                .total;
            let tokens = link.marketplace.tokens();
            let count = |v: OrderView| counts.get(&v).copied().unwrap_or_default();
            let waits = self
                .engine
                .waiting_on(&link.id)
                .map_err(ServiceError::internal)?
                .into_iter()
                .map(|(cause, mut flows)| {
                    flows.dedup_by(|a, b| a.0 == b.0);
                    WaitingOn {
                        cause,
                        orders: flows.len(),
                    }
                })
                .collect();
            links.push(LinkHealth {
                link: link.id.clone(),
                shop: link.shop.to_string(),
                store: link.storefront_name.to_string(),
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
                queue_depth: store
                    .ready_job_count_of_link(&link.id)
                    .map_err(ServiceError::internal)?,
                stuck_jobs: count(OrderView::Stuck),
                access_expires_at: tokens.access_expires_at,
                authorization_expires_at: tokens.refresh_expires_at,
                webhooks: self.engine.hints().counts(&link.id),
                counts: ViewCounts {
                    pending: count(OrderView::Pending),
                    missing_tracking: count(OrderView::MissingTracking),
                    stuck: count(OrderView::Stuck),
                    parcels: count(OrderView::Parcels),
                    cancellations_waiting: waiting,
                    all: count(OrderView::All),
                },
                waiting: waits,
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

    /// A page of an order list, sorted by the store's indexes (never in memory). A filtered
    /// page whose walk stopped when it was full comes back `counting`: its total follows from
    /// [`Request::OrderCount`], so a client shows the page first.
    fn orders(&self, q: OrderQuery) -> Result<Paged<OrderRow>, ServiceError> {
        let store = self.engine.store();
        let now = self.engine.now();
        let lookup = self.engine.settings_lookup();
        let query = ViewQuery {
            view: q.view,
            link: q.link.as_ref(),
            offset: q.offset,
            limit: clamp(q.limit),
            now,
        };
        let order = ListOrder {
            column: super::sorting::order_sort(q.sort),
            descending: q.dir == SortDir::Desc,
        };
        let filter = Filter::parse(q.filter.as_deref().unwrap_or(""));
        let (total, orders) = if filter.is_empty() {
            let page = store.page_sorted(&query, order, &lookup);
            page.map(|page| (Some(page.total), page.items))
        } else {
            with_order_filter(&filter, q.view, now, |filter| {
                let page = store.page_matching(&query, order, &lookup, filter);
                page.map(|page| (page.total, page.items))
            })
        }
        .map_err(ServiceError::internal)?;
        Ok(Paged {
            total: total.unwrap_or(q.offset + orders.len()),
            offset: q.offset,
            rows: orders.iter().map(|o| order_row(o, q.view, now)).collect(),
            counting: total.is_none(),
        })
    }

    /// How many orders `q`'s list holds with its filter (one read for an unfiltered list).
    fn order_count(
        &self,
        q: &OrderQuery,
        wanted: &(dyn Fn() -> bool + Sync),
    ) -> Result<usize, ServiceError> {
        let store = self.engine.store();
        let now = self.engine.now();
        let lookup = self.engine.settings_lookup();
        let filter = Filter::parse(q.filter.as_deref().unwrap_or(""));
        if filter.is_empty() {
            return store
                .count_view(q.view, q.link.as_ref(), now, &lookup)
                .map_err(ServiceError::internal);
        }
        let query = ViewQuery {
            view: q.view,
            link: q.link.as_ref(),
            offset: 0,
            limit: 0,
            now,
        };
        with_order_filter(&filter, q.view, now, |filter| {
            store.count_matching_while(&query, &lookup, filter, wanted)
        })
        .map_err(ServiceError::internal)?
        .ok_or_else(|| ServiceError::invalid(REPLACED_COUNT))
    }

    fn cancellations(&self, q: CancellationQuery) -> Result<Paged<CancellationRow>, ServiceError> {
        let store = self.engine.store();
        let now = self.engine.now();
        let limit = clamp(q.limit);
        let filter = Filter::parse(q.filter.as_deref().unwrap_or(""));
        let plain = filter.is_empty() && q.sort.is_default();
        let (offset, take) = if plain {
            (q.offset, limit)
        } else {
            (0, usize::MAX)
        };
        let page = store
            .cancellations(&CancellationScan {
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
        if plain {
            return Ok(Paged {
                total: page.total,
                offset: q.offset,
                rows,
                counting: false,
            });
        }
        let mut rows: Vec<CancellationRow> = rows
            .into_iter()
            .filter(|r| filter.matches_cancellation(r))
            .collect();
        super::sorting::sort(&mut rows, q.sort);
        let total = rows.len();
        Ok(Paged {
            total,
            offset: q.offset,
            rows: rows.into_iter().skip(q.offset).take(limit).collect(),
            counting: false,
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
            counting: false,
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
        // Sorted by another column, the newest ACTIVITY_SORTED entries are what is sorted: the
        // log is unbounded, and a person sorting it is looking at recent events.
        let want = if q.sort.is_default() {
            q.offset + limit
        } else {
            ACTIVITY_SORTED
        };
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
                    level: match e.level {
                        Level::Info => ActivityLevel::Info,
                        Level::Warn => ActivityLevel::Warn,
                        Level::Error => ActivityLevel::Error,
                    },
                    who: "orderdeck".into(),
                    link: e.link,
                    order: e.order,
                    text: e.text,
                }),
        );
        items.sort_by_key(|item| std::cmp::Reverse(item.at));
        if !q.sort.is_default() {
            items.truncate(ACTIVITY_SORTED);
            super::sorting::sort(&mut items, q.sort);
            return Ok(Paged {
                total: items.len(),
                offset: q.offset,
                rows: items.into_iter().skip(q.offset).take(limit).collect(),
                counting: false,
            });
        }
        Ok(Paged {
            total: audit_total + engine_total,
            offset: q.offset,
            rows: items.into_iter().skip(q.offset).take(limit).collect(),
            counting: false,
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
                    // A setting the store cannot honour shows what the store does instead.
                    k.fixed_on(runtime.platform)
                        .unwrap_or_else(|| record.settings.value_text(k)),
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
            providers: self.engine.provider_names(runtime),
        })
    }
}

/// Why a count stopped: the same user asked for a newer one (their console's filter changed).
pub(crate) const REPLACED_COUNT: &str = "this count was replaced by a newer one from the same user";

/// `filter` as the store applies it to the orders of `view`'s list: its pre-checks on blocks of
/// the orders' indexed texts and on each text, then the filter itself on the order's row.
fn with_order_filter<R>(
    filter: &Filter,
    view: OrderView,
    now: crate::domain::clock::Timestamp,
    read: impl FnOnce(&OrderFilter<'_>) -> R,
) -> R {
    let pre_check = filter.pre_check();
    let matches = |o: &Order| filter.matches_order(&order_row(o, view, now));
    read(&OrderFilter {
        text: &|text| pre_check.text(text),
        any_text: &|texts| pre_check.any_text(texts),
        order: &matches,
    })
}

fn clamp(limit: usize) -> usize {
    limit.clamp(1, MAX_PAGE)
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
        AuditOutcome::Ok { detail } => (ActivityLevel::Ok, detail.clone().unwrap_or_default()),
        AuditOutcome::Refused { why } => (ActivityLevel::Refused, why.clone()),
        AuditOutcome::Failed { error } => (ActivityLevel::Failed, error.clone()),
    };
    let reason = e
        .reason
        .as_deref()
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    ActivityItem {
        at: e.at,
        source: "audit".into(),
        level,
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
