//! A test-only service: answers the console's requests from the deterministic rows in
//! `seed`, honouring offset, limit, filter and sort so paging and filter tests are real. It
//! does not reuse the console's filter code (a shared bug would agree with itself), records
//! every request it gets, refuses what the caller's role may not do, can play offline, and sends events.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use orderdeck::domain::access::{Permission, Role, refusal};
use orderdeck::domain::ids::{JobId, RequestId, TiktokOrderId};
use orderdeck::domain::platform::Platform;
use orderdeck::domain::rules::parcel::ParcelAfterCancel;
use orderdeck::domain::settings::{LinkSettings, SettingKey};
use orderdeck::domain::triage::OrderView;
use orderdeck::service::api::*;
use orderdeck::service::client::{Client, ClientEvent};
use orderdeck::service::sorting::{Sortable, sort};
use tokio::sync::broadcast;

use super::fake_query::{cancel_fields, detail_of, order_fields, page, passes, sort_orders};
use super::seed::{self, LINKS, now};

pub struct FakeClient {
    role: Option<Role>,
    pending: Vec<OrderRow>,
    missing: Vec<OrderRow>,
    /// Past orders, listed only among every order.
    history: Vec<OrderRow>,
    cancellations: Vec<CancellationRow>,
    requests: Mutex<Vec<orderdeck::domain::request::ResyncRequest>>,
    activity: Vec<ActivityItem>,
    settings: Mutex<BTreeMap<String, SettingsView>>,
    calls: Mutex<Vec<Request>>,
    events: broadcast::Sender<ClientEvent>,
    /// Answer every call as a daemon that went away would.
    offline: std::sync::atomic::AtomicBool,
    /// Say hello as the daemon (false: a store opened in-process).
    daemon: bool,
    /// Orders whose store shipped a parcel TikTok then cancelled, nobody having closed it.
    parcels: Mutex<Vec<TiktokOrderId>>,
}

impl FakeClient {
    /// The seeded service as someone with `role` sees it.
    pub fn new(role: Role) -> FakeClient {
        FakeClient::with_sizes(Some(role), 14, 12)
    }

    /// `pending` orders waiting to reach the store (the benchmark asks for 100,000).
    pub fn with_sizes(role: Option<Role>, pending: usize, missing: usize) -> FakeClient {
        let mut settings = BTreeMap::new();
        for (i, (name, _, _, platform, _)) in LINKS.iter().enumerate() {
            let mut values = LinkSettings::default();
            if *platform == Platform::Shopify {
                values
                    .carrier_map
                    .insert("Royal Mail".into(), "Royal Mail".into());
                values.carrier_map.insert("DPD UK".into(), "DPD".into());
            }
            let fields = SettingKey::ALL
                .into_iter()
                .filter(|k| k.applies_to(*platform))
                .map(|k| {
                    (
                        k.name().to_string(),
                        values.value_text(k),
                        k.description().to_string(),
                    )
                })
                .collect();
            settings.insert(
                name.to_string(),
                SettingsView {
                    link: seed::link(name),
                    platform: *platform,
                    version: 7 - i as u64,
                    settings: values,
                    fields,
                    // What TikTok lists for the shop, once orderdeck has asked.
                    providers: [
                        "DPD",
                        "Evri",
                        "Hermes",
                        "Royal Mail",
                        "Royal Mail Tracked",
                        "USPS",
                    ]
                    .map(String::from)
                    .to_vec(),
                },
            );
        }
        FakeClient {
            role,
            pending: seed::pending(pending),
            missing: seed::missing(missing),
            history: seed::history(),
            cancellations: seed::cancellations(),
            requests: Mutex::new(seed::requests()),
            activity: seed::activity(),
            settings: Mutex::new(settings),
            calls: Mutex::new(Vec::new()),
            events: broadcast::channel(64).0,
            offline: Default::default(),
            daemon: true,
            parcels: Mutex::default(),
        }
    }

    /// The same service opened in-process, with no daemon polling behind it.
    pub fn without_daemon(mut self) -> FakeClient {
        self.daemon = false;
        self
    }

    fn requests(&self) -> Vec<orderdeck::domain::request::ResyncRequest> {
        self.requests.lock().expect("requests").clone()
    }

    /// Someone else decides request `id` (the one a resync from the fake always gets is R44).
    pub fn decide_elsewhere(
        &self,
        id: RequestId,
        status: orderdeck::domain::request::RequestStatus,
    ) {
        let mut requests = self.requests.lock().expect("requests");
        match requests.iter_mut().find(|r| r.id == id) {
            Some(r) => r.status = status,
            None => {
                let mut decided = seed::requests().remove(0);
                decided.id = id;
                decided.status = status;
                requests.push(decided);
            }
        }
    }

    /// Every request received so far.
    pub fn calls(&self) -> Vec<Request> {
        self.calls.lock().expect("calls").clone()
    }

    pub fn mutations(&self) -> Vec<Request> {
        self.calls()
            .into_iter()
            .filter(Request::is_mutation)
            .collect()
    }

    pub fn forget_calls(&self) {
        self.calls.lock().expect("calls").clear();
    }

    /// Sends a connection or change event to every subscriber.
    pub fn send(&self, event: ClientEvent) {
        let _ = self.events.send(event);
    }

    pub fn set_offline(&self, offline: bool) {
        self.offline
            .store(offline, std::sync::atomic::Ordering::SeqCst);
    }

    fn allow(&self, permission: Permission) -> Result<(), ServiceError> {
        if self.role.is_some_and(|r| r.may(permission)) {
            Ok(())
        } else {
            Err(ServiceError::Refused {
                message: refusal(self.role, permission),
            })
        }
    }

    fn answer(&self, request: Request) -> Result<Response, ServiceError> {
        match request {
            Request::Hello { protocol, .. } => Ok(Response::Welcome(Welcome {
                protocol,
                user: "alice".into(),
                uid: 1001,
                role: self.role,
                two_person: false,
                daemon: self.daemon,
                version: "0.1.0".into(),
            })),
            Request::Subscribe => Ok(Response::Subscribed),
            Request::Overview => Ok(Response::Overview(Overview {
                now: now(),
                links: seed::links(
                    &self.pending,
                    &self.missing,
                    &self.history,
                    &self.cancellations,
                ),
                pending_requests: self.requests().iter().filter(|r| r.is_pending()).count(),
                generation: 1,
            })),
            Request::Orders(q) => Ok(Response::Orders(self.orders(&q))),
            Request::OrderCount(q) => Ok(Response::OrderCount {
                total: self.matching(&q).len(),
            }),
            Request::FindOrder { text } => Ok(Response::Orders(self.find(&text))),
            Request::Cancellations(q) => {
                let rows: Vec<_> = self
                    .cancellations
                    .iter()
                    .filter(|c| q.link.as_ref().is_none_or(|l| *l == c.link))
                    .filter(|c| passes(q.filter.as_deref(), &cancel_fields(c)))
                    .cloned()
                    .collect();
                Ok(Response::Cancellations(page(
                    sorted(rows, q.sort),
                    q.offset,
                    q.limit,
                )))
            }
            Request::Requests(q) => Ok(Response::Requests(page(
                sorted(
                    self.requests()
                        .into_iter()
                        .filter(|r| !q.pending_only || r.is_pending())
                        .collect(),
                    q.sort,
                ),
                q.offset,
                q.limit,
            ))),
            Request::Audit(_) => Err(ServiceError::invalid(
                "the console reads the Activity view through Activity, not Audit",
            )),
            Request::Activity(q) => {
                let rows: Vec<_> = self
                    .activity
                    .iter()
                    .filter(|a| {
                        passes(
                            q.filter.as_deref(),
                            &[
                                ("who", a.who.clone()),
                                ("why", a.text.clone()),
                                (
                                    "id",
                                    a.order.as_ref().map(|o| o.to_string()).unwrap_or_default(),
                                ),
                            ],
                        )
                    })
                    .cloned()
                    .collect();
                Ok(Response::Activity(page(
                    sorted(rows, q.sort),
                    q.offset,
                    q.limit,
                )))
            }
            Request::Order { id } => self.detail(&id).map(|d| Response::Order(Box::new(d))),
            Request::Settings { link } => self
                .settings
                .lock()
                .expect("settings")
                .get(link.as_str())
                .cloned()
                .map(Response::Settings)
                .ok_or_else(|| ServiceError::not_found(format!("no link {link}"))),
            Request::Resync { orders, .. } => {
                self.allow(Permission::RequestResync)?;
                let running = self.role.is_some_and(|r| r >= Role::Operator);
                Ok(Response::Resync(ResyncOutcome {
                    request: RequestId(44),
                    running,
                    jobs: if running {
                        (0..orders.len() as u64).map(|i| JobId(900 + i)).collect()
                    } else {
                        Vec::new()
                    },
                }))
            }
            Request::Decide {
                request, approve, ..
            } => {
                self.allow(Permission::DecideResyncRequest)?;
                let verb = if approve {
                    "approved: jobs queued"
                } else {
                    "rejected"
                };
                Ok(Response::Done {
                    message: format!("{request} {verb}"),
                })
            }
            Request::RespondBuyerCancel { approve, .. } => {
                self.allow(Permission::RespondBuyerCancel)?;
                let verb = if approve { "approved" } else { "rejected" };
                Ok(Response::Done {
                    message: format!("buyer cancel request {verb} on TikTok"),
                })
            }
            Request::ReprintLabel { order, .. } => {
                self.allow(Permission::ReprintLabel)?;
                Ok(Response::Label {
                    path: format!("/var/lib/orderdeck/labels/{order}.pdf"),
                    printed: false,
                })
            }
            Request::RetryStuck { orders, .. } => {
                self.allow(Permission::RetryStuckJob)?;
                Ok(Response::Done {
                    message: format!("{} stuck jobs queued again", orders.len()),
                })
            }
            Request::MarkParcelHandled { order, outcome, .. } => {
                self.allow(Permission::MarkParcelHandled)?;
                self.parcels
                    .lock()
                    .expect("parcels")
                    .retain(|id| *id != order);
                Ok(Response::Done {
                    message: format!("parcel of order {order} marked {}", outcome.name()),
                })
            }
            Request::RetryCause { cause, .. } => {
                self.allow(Permission::RetryStuckJob)?;
                Ok(Response::Done {
                    message: format!("retried all waiting on {}", cause.describe()),
                })
            }
            Request::SetSettings {
                link,
                changes,
                expected_version,
                ..
            } => {
                self.allow(Permission::EditLinkSettings)?;
                let mut all = self.settings.lock().expect("settings");
                let view = all
                    .get_mut(link.as_str())
                    .ok_or_else(|| ServiceError::not_found(link.to_string()))?;
                if view.version != expected_version {
                    return Err(ServiceError::invalid(format!(
                        "settings changed meanwhile (now version {})",
                        view.version
                    )));
                }
                for (key, value) in changes {
                    let key = SettingKey::parse(&key)
                        .map_err(|e| ServiceError::invalid(e.to_string()))?;
                    view.settings = view
                        .settings
                        .with_value(key, &value, view.platform)
                        .map_err(|e| ServiceError::invalid(e.to_string()))?;
                }
                view.version += 1;
                Ok(Response::Settings(view.clone()))
            }
            Request::SyncNow { .. } => {
                self.allow(Permission::RunSync)?;
                Ok(Response::Sync(SyncSummary {
                    links: 3,
                    orders_seen: 14,
                    jobs_run: 3,
                    jobs_done: 3,
                    ..SyncSummary::default()
                }))
            }
        }
    }

    /// Every order, newest first (the Orders view's own order).
    fn every_order(&self) -> Vec<OrderRow> {
        let mut all: Vec<OrderRow> = [&self.pending, &self.missing, &self.history]
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        all.sort_by_key(|r| std::cmp::Reverse(r.created_at));
        all
    }

    fn orders(&self, q: &OrderQuery) -> Paged<OrderRow> {
        let own = match q.view {
            OrderView::MissingTracking => &self.missing,
            OrderView::All => &self.every_order(),
            _ => &self.pending,
        };
        // The seeded order is the view's own order; only other sorts need a copy sorted.
        let unfiltered = q.link.is_none()
            && q.filter.is_none()
            && q.sort == OrderColumn::Default
            && q.dir == SortDir::Asc;
        if unfiltered {
            let rows = own.iter().skip(q.offset).take(q.limit).cloned().collect();
            return Paged {
                total: own.len(),
                offset: q.offset,
                rows,
                counting: false,
            };
        }
        let mut found = page(self.matching(q), q.offset, q.limit);
        // As the store does: a filtered page that filled before the list's end leaves the
        // total to `OrderCount`.
        if q.filter.is_some() && q.offset + found.rows.len() < found.total {
            found.total = q.offset + found.rows.len();
            found.counting = true;
        }
        found
    }

    /// The rows of `q`'s list its link and filter keep, in its order (its paging ignored).
    fn matching(&self, q: &OrderQuery) -> Vec<OrderRow> {
        let own = match q.view {
            OrderView::MissingTracking => self.missing.clone(),
            OrderView::All => self.every_order(),
            _ => self.pending.clone(),
        };
        let mut rows: Vec<OrderRow> = own
            .into_iter()
            .filter(|r| q.link.as_ref().is_none_or(|l| *l == r.link))
            .filter(|r| passes(q.filter.as_deref(), &order_fields(r)))
            .collect();
        sort_orders(&mut rows, q.sort, q.dir);
        rows
    }

    /// The order with TikTok id `text`, else those whose store number it is, `#` or not.
    fn find(&self, text: &str) -> Paged<OrderRow> {
        let all = self.every_order();
        let by_id: Vec<OrderRow> = all
            .iter()
            .filter(|r| r.id.as_str() == text)
            .cloned()
            .collect();
        let bare = text.trim_start_matches('#');
        let rows = if by_id.is_empty() {
            all.into_iter()
                .filter(|r| {
                    r.store_order
                        .as_deref()
                        .is_some_and(|n| n.trim_start_matches('#') == bare)
                })
                .collect()
        } else {
            by_id
        };
        page(rows, 0, usize::MAX)
    }

    fn detail(&self, id: &TiktokOrderId) -> Result<OrderDetail, ServiceError> {
        let row = self
            .pending
            .iter()
            .chain(&self.missing)
            .chain(&self.history)
            .find(|r| r.id == *id)
            .ok_or_else(|| ServiceError::not_found(format!("order {id}")))?;
        let mut detail = detail_of(row, self.role);
        if self.parcels.lock().expect("parcels").contains(id) {
            detail.order.parcel_after_cancel = Some(ParcelAfterCancel {
                carrier: Some("UPS".into()),
                tracking_number: Some("1Z999AA10000000077".into()),
                tracking_url: None,
                cancelled_at: now(),
                initiator: None,
                raised_at: now(),
                handled: None,
            });
        }
        Ok(detail)
    }

    /// The store shipped `id` and TikTok then cancelled it: its detail shows the open parcel.
    pub fn ship_then_cancel(&self, id: TiktokOrderId) {
        self.parcels.lock().expect("parcels").push(id);
    }
}

#[async_trait]
impl Client for FakeClient {
    async fn call(&self, request: Request) -> Result<Response, ServiceError> {
        self.calls.lock().expect("calls").push(request.clone());
        if self.offline.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(ServiceError::Disconnected {
                message: "daemon restarting".into(),
            });
        }
        self.answer(request)
    }

    fn events(&self) -> broadcast::Receiver<ClientEvent> {
        self.events.subscribe()
    }
}

/// Rows as the service sorts them (the same column keys, so the console's sorting is tested
/// against what the daemon does).
fn sorted<T: Sortable>(mut rows: Vec<T>, by: Sort) -> Vec<T> {
    sort(&mut rows, by);
    rows
}
