//! Random operations for the model test: small pools of ids, links and times so that records
//! are overwritten, move between links and views, and tie on sort keys (ties are where key
//! layouts go wrong). Each spec builds a realistic domain value from the rule fixtures.

use proptest::prelude::*;
use proptest::sample::Index;

use super::*;
use crate::domain::cancellation::SellerResponse;
use crate::domain::job::JobState;
use crate::domain::order::{FlowStatus, FulfillmentType};
use crate::domain::rules::fixtures::{self, t};

pub const LINKS: [&str; 3] = ["uk", "uk2", "de"];
/// Ids that are prefixes of each other ("1", "12", "123") check the key separators.
pub const ORDER_IDS: [&str; 7] = [
    "1",
    "12",
    "123",
    "2",
    "90",
    "576461413038785752",
    "576461413038785753",
];
pub const CANCEL_IDS: [&str; 4] = ["c1", "c10", "store-side", "c100"];
pub const STREAMS: [&str; 2] = ["tiktok.orders", "store.orders"];

/// Hours from the fixtures' payment time, as a timestamp (whole seconds, like the platforms').
pub fn hours(h: i64) -> Timestamp {
    t(h * 3600)
}

#[derive(Debug, Clone)]
pub struct OrderSpec {
    id: usize,
    link: usize,
    status: usize,
    tiktok_ships: bool,
    by_tiktok: bool,
    in_store: bool,
    pushed: bool,
    /// (flow, stuck since in hours) for a stuck flow.
    stuck: Option<(usize, Option<i64>)>,
    created: i64,
    paid: Option<i64>,
    ship_by: Option<i64>,
}

fn order_spec() -> impl Strategy<Value = OrderSpec> {
    (
        (0..ORDER_IDS.len(), 0..LINKS.len(), 0..6usize),
        (
            any::<bool>(),
            prop::bool::weighted(0.1),
            any::<bool>(),
            prop::bool::weighted(0.2),
        ),
        prop::option::weighted(0.3, (0..4usize, prop::option::of(-2..3i64))),
        (
            -2..2i64,
            prop::option::of(-2..2i64),
            prop::option::weighted(0.8, 20..80i64),
        ),
    )
        .prop_map(
            |(
                (id, link, status),
                (tiktok_ships, by_tiktok, in_store, pushed),
                stuck,
                (created, paid, ship_by),
            )| OrderSpec {
                id,
                link,
                status,
                tiktok_ships,
                by_tiktok,
                in_store,
                pushed,
                stuck,
                created,
                paid,
                ship_by,
            },
        )
}

impl OrderSpec {
    pub fn build(&self) -> Order {
        use crate::domain::order::Flow;
        let statuses = [
            OrderStatus::Unpaid,
            OrderStatus::OnHold,
            OrderStatus::AwaitingShipment,
            OrderStatus::PartiallyShipping,
            OrderStatus::InTransit,
            OrderStatus::Cancelled,
        ];
        let shipping = if self.tiktok_ships {
            ShippingType::Tiktok
        } else {
            ShippingType::Seller
        };
        let mut o = fixtures::order(statuses[self.status].clone(), shipping);
        if self.in_store {
            o = fixtures::in_store(
                o,
                vec![fixtures::fulfilled("RM123456785GB", Some("Royal Mail"))],
            );
        }
        o.id = order_id(ORDER_IDS[self.id]);
        o.link = link(LINKS[self.link]);
        if self.by_tiktok {
            o.tiktok.fulfillment_type = FulfillmentType::ByTiktok;
        }
        if self.pushed {
            o.pushed_tracking = Some("RM123456785GB".into());
            o.flows.tracking.status = FlowStatus::Done { at: hours(5) };
        }
        if let Some((flow, since)) = self.stuck {
            let state = o.flows.get_mut(Flow::ALL[flow]);
            state.status = FlowStatus::Stuck {
                reason: "SKU ABC-1 has no variant in the store".into(),
            };
            state.updated_at = since.map(hours);
        }
        o.tiktok.created_at = hours(self.created);
        o.tiktok.paid_at = self.paid.map(hours);
        o.tiktok.ship_by = self.ship_by.map(hours);
        o
    }
}

#[derive(Debug, Clone)]
pub struct CancelSpec {
    key: usize,
    order: usize,
    link: usize,
    buyer_request: bool,
    status: usize,
    to_tiktok: bool,
    deadline: Option<i64>,
    updated: i64,
}

fn cancel_spec() -> impl Strategy<Value = CancelSpec> {
    (
        (0..CANCEL_IDS.len(), 0..ORDER_IDS.len(), 0..LINKS.len()),
        (any::<bool>(), 0..4usize, prop::bool::weighted(0.2)),
        (prop::option::of(0..4i64), -2..2i64),
    )
        .prop_map(
            |((key, order, link), (buyer_request, status, to_tiktok), (deadline, updated))| {
                CancelSpec {
                    key,
                    order,
                    link,
                    buyer_request,
                    status,
                    to_tiktok,
                    deadline,
                    updated,
                }
            },
        )
}

impl CancelSpec {
    pub fn build(&self) -> Cancellation {
        let mut o = order(ORDER_IDS[self.order], LINKS[self.link]);
        o.link = link(LINKS[self.link]);
        let mut c = buyer_request("c1", &o, self.deadline.map(hours));
        c.key = match CANCEL_IDS[self.key] {
            "store-side" => CancellationKey::Store(o.id.clone()),
            id => CancellationKey::Tiktok(CancelId::new(id).unwrap()),
        };
        if !self.buyer_request {
            c.cancel_type = CancelType::Direct;
            c.initiator = Initiator::System;
        }
        c.tiktok_status = [
            Some(CancelStatus::Pending),
            Some(CancelStatus::Success),
            Some(CancelStatus::Withdrawn),
            None,
        ][self.status]
            .clone();
        if self.to_tiktok {
            c.direction = Direction::StoreToTiktok;
            c.response = Some(SellerResponse::Approve);
        }
        c.updated_at = hours(self.updated);
        c
    }
}

#[derive(Debug, Clone)]
pub struct JobSpec {
    /// Update an existing job (picked among the model's), else a new one with a fresh id.
    pub existing: Option<Index>,
    order: usize,
    state: usize,
    run_after: i64,
}

fn job_spec() -> impl Strategy<Value = JobSpec> {
    (
        prop::option::of(any::<Index>()),
        0..ORDER_IDS.len(),
        0..4usize,
        -2..3i64,
    )
        .prop_map(|(existing, order, state, run_after)| JobSpec {
            existing,
            order,
            state,
            run_after,
        })
}

impl JobSpec {
    pub fn build(&self, id: JobId) -> Job {
        let o = order(ORDER_IDS[self.order], "uk");
        let mut j = job(id.0, &o, hours(self.run_after));
        j.state = match self.state {
            0 => JobState::Ready,
            1 => JobState::Running {
                since: hours(self.run_after),
            },
            2 => JobState::Done { at: hours(3) },
            _ => JobState::Stuck {
                reason: "store auth expired".into(),
            },
        };
        j.attempts = self.state as u32;
        j
    }
}

#[derive(Debug, Clone)]
pub struct RequestSpec {
    pub existing: Option<Index>,
    order: usize,
    pending: bool,
    at: i64,
}

fn request_spec() -> impl Strategy<Value = RequestSpec> {
    (
        prop::option::of(any::<Index>()),
        0..ORDER_IDS.len(),
        any::<bool>(),
        -2..2i64,
    )
        .prop_map(|(existing, order, pending, at)| RequestSpec {
            existing,
            order,
            pending,
            at,
        })
}

impl RequestSpec {
    pub fn build(&self, id: RequestId) -> ResyncRequest {
        let o = order(ORDER_IDS[self.order], "uk");
        let mut r = request(id.0, &[&o], hours(self.at));
        if !self.pending {
            r.status = RequestStatus::Running {
                approved_by: operator(),
                at: hours(self.at + 1),
            };
        }
        r
    }
}

#[derive(Debug, Clone)]
pub struct SettingsSpec {
    pub link: usize,
    /// Write from a version other than the stored one: must be refused.
    pub stale: bool,
    pub threshold_hours: u64,
}

fn settings_spec() -> impl Strategy<Value = SettingsSpec> {
    (
        0..LINKS.len(),
        prop::bool::weighted(0.3),
        prop::sample::select(vec![1u64, 12, 24, 48]),
    )
        .prop_map(|(link, stale, threshold_hours)| SettingsSpec {
            link,
            stale,
            threshold_hours,
        })
}

#[derive(Debug, Clone)]
pub struct ChangeSpec {
    pub orders: Vec<OrderSpec>,
    pub cancellations: Vec<CancelSpec>,
    pub jobs: Vec<JobSpec>,
    pub requests: Vec<RequestSpec>,
    /// Audit entry times in hours: few values, so equal timestamps are common.
    pub audit: Vec<i64>,
    pub settings: Option<SettingsSpec>,
    /// (link, stream, hours)
    pub watermark: Option<(usize, usize, i64)>,
    /// (order, a marker in the raw JSON)
    pub payload: Option<(usize, u8)>,
    pub link_record: Option<usize>,
    pub remove_orders: Vec<usize>,
    pub remove_jobs: Vec<Index>,
}

fn change_spec() -> impl Strategy<Value = ChangeSpec> {
    let rare = |n| prop::collection::vec(any::<Index>(), 0..n);
    (
        (
            prop::collection::vec(order_spec(), 0..4),
            prop::collection::vec(cancel_spec(), 0..2),
            prop::collection::vec(job_spec(), 0..3),
            prop::collection::vec(request_spec(), 0..2),
        ),
        (
            prop::collection::vec(0..3i64, 0..3),
            prop::option::weighted(0.15, settings_spec()),
        ),
        (
            prop::option::weighted(0.2, (0..LINKS.len(), 0..STREAMS.len(), 0..5i64)),
            prop::option::weighted(0.2, (0..ORDER_IDS.len(), any::<u8>())),
            prop::option::weighted(0.1, 0..LINKS.len()),
        ),
        prop_oneof![4 => Just(vec![]), 1 => prop::collection::vec(0..ORDER_IDS.len(), 1..3)],
        prop_oneof![4 => Just(vec![]), 1 => rare(3)],
    )
        .prop_map(
            |(
                (orders, cancellations, jobs, requests),
                (audit, settings),
                (watermark, payload, link_record),
                remove_orders,
                remove_jobs,
            )| ChangeSpec {
                orders,
                cancellations,
                jobs,
                requests,
                audit,
                settings,
                watermark,
                payload,
                link_record,
                remove_orders,
                remove_jobs,
            },
        )
}

#[derive(Debug, Clone)]
pub enum Op {
    Apply(Box<ChangeSpec>),
    Settings(SettingsSpec),
    AllocateJobId,
    AllocateRequestId,
    /// `close` then open.
    Reopen,
    /// Drop without `close` (as if the process died), then open.
    Crash,
}

pub fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        12 => change_spec().prop_map(|c| Op::Apply(Box::new(c))),
        2 => settings_spec().prop_map(Op::Settings),
        1 => Just(Op::AllocateJobId),
        1 => Just(Op::AllocateRequestId),
        1 => Just(Op::Reopen),
        1 => Just(Op::Crash),
    ]
}
