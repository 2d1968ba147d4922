//! Store figures at merchant scale: 100k orders over three links (about a year of a busy
//! shop). Measures applying one change (an order update and its job, flushed), paging the first
//! 50 orders of a view, counting a view, walking a whole view (a re-sorted list), filtering a
//! view, the full integrity check run at open after a crash, and a job claim beside one link's
//! backlog.
//! `cargo bench --bench store`; the store lives in the system temp dir, so flushes hit the disk.

// Benchmark code: a panic is a failed run (the crate's lints deny these outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use orderdeck::domain::clock::{Timestamp, from_unix};
use orderdeck::domain::ids::{LinkId, PackageId, TiktokOrderId};
use orderdeck::domain::job::{Job, JobKind};
use orderdeck::domain::order::{
    FlowStatus, FulfillmentType, LineUnit, Order, OrderStatus, Package, Recipient, ShippingType,
    TiktokSnapshot, group_line_items,
};
use orderdeck::domain::settings::LinkSettings;
use orderdeck::domain::triage::OrderView;
use orderdeck::store::{Change, CheckDepth, Store, StoreConfig, ViewQuery};

const ORDERS: u64 = 100_000;
const START: i64 = 1_700_000_000;
const LINKS: [&str; 3] = ["uk", "us", "de"];

fn at(secs: i64) -> Timestamp {
    from_unix(START + secs)
}

/// The n-th order: paid every ~5 minutes; most shipped with tracking, the newest still open.
fn order(n: u64) -> Order {
    let created = at(n as i64 * 300);
    let snapshot = TiktokSnapshot {
        status: if n > ORDERS - 2_000 {
            OrderStatus::AwaitingShipment
        } else {
            OrderStatus::InTransit
        },
        shipping_type: if n.is_multiple_of(4) {
            ShippingType::Tiktok
        } else {
            ShippingType::Seller
        },
        fulfillment_type: FulfillmentType::BySeller,
        created_at: created,
        updated_at: created,
        paid_at: Some(created + chrono::Duration::seconds(40)),
        ship_by: Some(created + chrono::Duration::days(3)),
        lines: group_line_items(&[LineUnit {
            id: format!("li-{n}"),
            sku_id: format!("sku-{}", n % 500),
            seller_sku: format!("JMP-{}", n % 500),
            product_name: "Crochet jumper".into(),
            sku_name: "Red, M".into(),
            sale_price: "19.99".into(),
            currency: "GBP".into(),
            cancelled: false,
        }]),
        recipient: Recipient {
            name: "David Kong".into(),
            first_name: "David".into(),
            last_name: "Kong".into(),
            phone: "(+44)7700-***-123".into(),
            address_lines: vec!["5800 Bristol Pkwy".into()],
            city: "London".into(),
            province: "Greater London".into(),
            postal_code: "N1 9GU".into(),
            country_code: "GB".into(),
            full_address: "5800 Bristol Pkwy, London N1 9GU".into(),
        },
        packages: vec![Package {
            id: PackageId::new(format!("pkg-{n}")).expect("package id"),
            tracking_number: None,
            line_item_ids: Vec::new(),
        }],
        delivery_option_id: Some("7091146663229654785".into()),
        tracking_number: None,
        shipping_provider: None,
        buyer_message: None,
        cancel_reason: None,
        cancellation_initiator: None,
        is_buyer_request_cancel: false,
        currency: "GBP".into(),
        total_amount: "19.99".into(),
    };
    let id = TiktokOrderId::new(format!("5764614130{n:08}")).expect("order id");
    let link = LinkId::new(LINKS[n as usize % LINKS.len()]).expect("link");
    let mut order = Order::new(id, link, snapshot, created);
    if n.is_multiple_of(50) {
        order.flows.import.status = FlowStatus::Stuck {
            reason: "SKU JMP-0 has no variant in the store".into(),
        };
        order.flows.import.updated_at = Some(created);
    } else if order.tiktok.status == OrderStatus::InTransit {
        order.pushed_tracking = Some(format!("RM{n:09}GB"));
        order.flows.import.status = FlowStatus::Done { at: created };
        order.flows.tracking.status = FlowStatus::Done { at: created };
    }
    order
}

fn load() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open_with(&StoreConfig::new(dir.path().join("store"))).expect("open");
    for chunk in (0..ORDERS).collect::<Vec<_>>().chunks(2_000) {
        let change = Change {
            orders: chunk.iter().map(|n| order(*n)).collect(),
            ..Change::default()
        };
        store.apply(&change).expect("load");
    }
    (dir, store)
}

fn bench(c: &mut Criterion) {
    let started = std::time::Instant::now();
    let (_dir, store) = load();
    eprintln!("loaded {ORDERS} orders in {:.1?}", started.elapsed());
    let settings = |_: &LinkId| LinkSettings::default();
    let now = at(ORDERS as i64 * 300 + 86_400);

    let mut group = c.benchmark_group("store_100k");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(5));
    let mut n = 0u64;
    group.bench_function("apply one change (order + job, flushed)", |b| {
        b.iter(|| {
            n += 1;
            let mut o = order(ORDERS - 1 - n % 1_000);
            o.flows.import.status = FlowStatus::Queued;
            let id = store.allocate_job_id().expect("job id");
            let job = Job::new(id, o.id.clone(), o.link.clone(), JobKind::Import, now);
            let change = Change {
                orders: vec![o],
                jobs: vec![job],
                ..Change::default()
            };
            store.apply(&change).expect("apply");
        })
    });
    for (view, link) in [
        (OrderView::All, None),
        (OrderView::MissingTracking, None),
        (OrderView::Stuck, Some("uk")),
    ] {
        let link = link.map(|l| LinkId::new(l).expect("link"));
        let query = ViewQuery {
            view,
            link: link.as_ref(),
            offset: 0,
            limit: 50,
            now,
        };
        let scope = link.as_ref().map_or("all links", LinkId::as_str);
        group.bench_function(format!("page first 50 of {} ({scope})", view.name()), |b| {
            b.iter(|| black_box(store.page_view(&query, &settings).expect("page")))
        });
        group.bench_function(format!("count {} ({scope})", view.name()), |b| {
            b.iter(|| {
                black_box(
                    store
                        .count_view(view, link.as_ref(), now, &settings)
                        .expect("count"),
                )
            })
        });
    }
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    // What a filtered or re-sorted query reads: the view's whole index range, every order decoded.
    let whole = ViewQuery {
        view: OrderView::All,
        link: None,
        offset: 0,
        limit: usize::MAX,
        now,
    };
    group.bench_function("walk the whole all view (a re-sorted query)", |b| {
        b.iter(|| black_box(store.page_view(&whole, &settings).expect("walk")))
    });
    // A filter matching 2% of orders (SKUs JMP-42 and JMP-420..429): the order text index
    // decides, only the matches are decoded.
    let selective = |text: &str| text.contains("jmp-42");
    group.bench_function("filter the all view (2% match)", |b| {
        b.iter(|| {
            let found = store
                .view_matching(&whole, &settings, &selective)
                .expect("filter");
            assert_eq!(found.len(), 2_200);
            black_box(found)
        })
    });
    for depth in [CheckDepth::Quick, CheckDepth::Full] {
        group.bench_function(format!("integrity check {depth:?}"), |b| {
            b.iter(|| {
                let report = store.check(depth).expect("check");
                assert!(report.is_clean(), "{:?}", report.problems.first());
            })
        });
    }
    // A claim beside one link's backlog: the other links' due jobs are read apart from it.
    let backlog: Vec<Job> = (0..20_000u64)
        .map(|n| {
            // Links go round by order number: these are all the first link's, due first.
            let o = order(n * 3);
            let id = store.allocate_job_id().expect("job id");
            Job::new(
                id,
                o.id.clone(),
                o.link.clone(),
                JobKind::PushTracking,
                at(n as i64),
            )
        })
        .chain((0..16u64).map(|n| {
            let o = order(n * 3 + 1);
            let id = store.allocate_job_id().expect("job id");
            Job::new(id, o.id.clone(), o.link.clone(), JobKind::PushTracking, now)
        }))
        .collect();
    let other = LinkId::new(LINKS[1]).expect("link");
    for chunk in backlog.chunks(2_000) {
        let change = Change {
            jobs: chunk.to_vec(),
            ..Change::default()
        };
        store.apply(&change).expect("load jobs");
    }
    group.bench_function(
        "claim 16 jobs of a link beside another's 20k backlog",
        |b| {
            b.iter(|| {
                let due = store.due_jobs_of_link(&other, now, 16).expect("claim");
                assert_eq!(due.len(), 16);
                black_box(due)
            })
        },
    );
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
