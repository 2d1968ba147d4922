//! The crash test's verdict, from the platforms' own records (the store's orders by
//! `sourceIdentifier` and their cancel requests, TikTok's shipments, cancellations and tracking
//! writes) and from orderdeck's store once the last run closed it; then the figures.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::time::Duration;

use orderdeck::cli::runtime::store_path;
use orderdeck::domain::ids::TiktokOrderId;
use orderdeck::domain::job::JobState;
use orderdeck::sandbox::set::SandboxSet;
use orderdeck::sandbox::shopify::SandboxOrder;
use orderdeck::store::Store;

use crate::crash::driver::{Known, Log, Platform, platform_of};

mod stores;

pub fn check(
    set: &SandboxSet,
    data_dir: &Path,
    log: &Log,
    known: &BTreeMap<String, Known>,
    kills: usize,
    took: Duration,
) {
    let store = Store::open(store_path(data_dir)).expect("orderdeck's store opens");
    // What orderdeck knows of an order, for failure messages.
    let explain = |id: &str| -> String {
        let id = TiktokOrderId::new(id.to_string()).expect("order id");
        let Ok(Some(order)) = store.order(&id) else {
            return format!("{id} is unknown to orderdeck");
        };
        let timeline: Vec<String> = order
            .timeline
            .iter()
            .map(|e| format!("  {} {}", e.at.format("%H:%M:%S%.3f"), e.text))
            .collect();
        let jobs: Vec<String> = store
            .jobs_of(&id)
            .unwrap_or_default()
            .iter()
            .map(|j| {
                format!(
                    "  {} {:?} attempts {}",
                    j.kind.describe(),
                    j.state,
                    j.attempts
                )
            })
            .collect();
        format!(
            "orderdeck's order {id}: TikTok {} store {:?}\nflows {:#?}\njobs:\n{}\ntimeline:\n{}",
            order.tiktok.status,
            order
                .store
                .as_ref()
                .map(|s| (&s.name, &s.status, s.fulfillments.len())),
            order.flows,
            jobs.join("\n"),
            timeline.join("\n")
        )
    };
    let refused = set.contract_refusals();
    assert!(
        refused.is_empty(),
        "through the kills, orderdeck sent requests the stores' contracts refuse: {refused:#?}"
    );
    // The store's own records, by the TikTok order each was made for.
    let mut by_source: HashMap<String, Vec<SandboxOrder>> = HashMap::new();
    let mut store_orders = 0;
    for store in &set.scenario.stores {
        for order in set.shopify.orders(&store.name).unwrap() {
            store_orders += 1;
            let source = order.source_identifier.clone().expect("orderdeck sets it");
            by_source.entry(source).or_default().push(order);
        }
    }
    let duplicates: Vec<(&String, usize)> = by_source
        .iter()
        .filter(|(_, orders)| orders.len() > 1)
        .map(|(id, orders)| (id, orders.len()))
        .collect();
    assert!(
        duplicates.is_empty(),
        "duplicated store orders: {duplicates:?}"
    );
    let in_store = |id: &str| by_source.get(id).and_then(|o| o.first());
    // The other platforms' orders, by the TikTok order in their own field (duplicates fail).
    let elsewhere = stores::orders_by_tiktok_id(set);
    let present = |id: &str| in_store(id).is_some() || elsewhere.contains(id);
    let on_shopify = |id: &str| platform_of(set, known[id].shop) == Platform::Shopify;

    for id in &log.importable {
        if !log.tiktok_cancelled.contains(id) {
            assert!(
                present(id),
                "paid order {id} never reached the store\n{}",
                explain(id)
            );
        }
    }
    for id in &log.unimportable {
        assert!(!present(id), "{id} has an unknown SKU, yet is in the store");
    }

    // Damaged orders are held for a person with the field at fault, never imported, never
    // dropped; once readable they are imported like any other (checked with `importable`).
    for id in &log.poisoned {
        assert!(!present(id), "{id} was sent damaged, yet is in the store");
        let order = store
            .order(&TiktokOrderId::new(id.clone()).expect("order id"))
            .expect("store reads")
            .unwrap_or_else(|| panic!("damaged order {id} was dropped, not held"));
        let held = order.unreadable.as_ref().map(|u| u.why.as_str());
        assert!(
            held.is_some_and(|why| why.contains("package id") || why.contains("field ")),
            "{id}: {held:?}\n{}",
            explain(id)
        );
    }
    for id in &log.healed {
        let order = store
            .order(&TiktokOrderId::new(id.clone()).expect("order id"))
            .expect("store reads");
        assert!(
            order.is_some_and(|o| o.unreadable.is_none()),
            "{id} was sent readable again, yet is still held\n{}",
            explain(id)
        );
    }

    let mut store_cancels = 0;
    for id in &log.tiktok_cancelled {
        let Some(order) = in_store(id) else { continue };
        assert!(
            order.cancelled_at.is_some(),
            "{id}: cancelled on TikTok, open in the store\n{}",
            explain(id)
        );
        assert_eq!(
            order.cancel_requests.len(),
            1,
            "{id}: {order:#?}\n{}",
            explain(id)
        );
        assert!(order.refunds.is_empty(), "{id} was refunded in the store");
        store_cancels += 1;
    }
    let mut relayed = 0;
    for (id, relays) in log.admin_cancelled.iter().filter(|(id, _)| on_shopify(id)) {
        let on_tiktok = set.tiktok.cancellations_of(id);
        let by_seller = on_tiktok.iter().filter(|c| c.role == "SELLER").count();
        if *relays {
            assert_eq!(
                set.tiktok.order_status(id).as_deref(),
                Some("CANCELLED"),
                "{}",
                explain(id)
            );
            assert_eq!(by_seller, 1, "{on_tiktok:?}\n{}", explain(id));
            relayed += 1;
        } else {
            assert_eq!(
                by_seller, 0,
                "{id}: relayed although the link does not: {on_tiktok:?}"
            );
        }
        let order = in_store(id).expect("cancelled in the admin, so in the store");
        assert!(
            order.cancel_requests.is_empty(),
            "{id}: echoed back to the store"
        );
    }

    let mut pushed = 0;
    for (id, (number, seller_ships)) in &log.fulfilled {
        let writes = set.tiktok.tracking_writes(id);
        if *seller_ships {
            let shipments = set.tiktok.shipments(id);
            assert!(
                shipments.iter().any(|s| &s.tracking_number == number),
                "{id}: tracking {number} never reached TikTok: {shipments:?}\n{}",
                explain(id)
            );
            assert_eq!(
                writes,
                1,
                "{id}: tracking pushed {writes} times\n{}",
                explain(id)
            );
            pushed += 1;
        } else {
            assert_eq!(
                writes,
                0,
                "{id}: TikTok ships it, yet tracking was pushed\n{}",
                explain(id)
            );
        }
    }

    let parcels = check_split_shipments(set, log, known, &explain);
    let partials = check_partial_cancels(set, log, known, &by_source, &explain);
    let others = stores::check(set, log, known, &explain);

    let report = store.open_report();
    assert!(
        report.released_jobs.is_empty(),
        "jobs left running after the final sync: {:?}",
        report.released_jobs
    );
    assert!(report.integrity.is_clean(), "{:?}", report.integrity);
    // Tokens refreshed along the way are the ones kept for the next start.
    for shop in &set.scenario.shops {
        let current = set.tiktok.access_token(&shop.name).expect("shop");
        let saved = data_dir.join("tokens").join(format!("{}.json", shop.name));
        let text = std::fs::read_to_string(&saved).unwrap_or_default();
        assert!(
            text.contains(&current),
            "{}: the newest access token is not the one kept in {}",
            shop.name,
            saved.display()
        );
    }
    let mut labels = 0;
    for id in &log.arranged {
        let order = store
            .order(&TiktokOrderId::new(id.clone()).unwrap())
            .unwrap()
            .unwrap_or_else(|| panic!("{id} unknown to orderdeck"));
        let path = order
            .label_file
            .unwrap_or_else(|| panic!("{id}: no label saved"));
        assert!(std::fs::read(&path).unwrap().starts_with(b"%PDF"), "{path}");
        labels += 1;
    }
    let (mut jobs, mut retries, mut stuck, mut listed_too_late) = (0, 0, 0, 0);
    for id in known.keys() {
        let id = TiktokOrderId::new(id.clone()).unwrap();
        for job in store.jobs_of(&id).unwrap() {
            jobs += 1;
            retries += job.attempts as usize;
            match &job.state {
                JobState::Done { .. } => {}
                // A TikTok cancel Amazon can no longer apply is listed for a person, with why.
                JobState::Stuck { reason }
                    if log.too_late.contains(id.as_str())
                        && reason.contains("intercept the parcel") =>
                {
                    listed_too_late += 1;
                }
                JobState::Stuck { reason } => {
                    assert!(
                        reason.contains("SKU"),
                        "{id}: {} stuck: {reason}\n{}",
                        job.kind.describe(),
                        explain(id.as_str())
                    );
                    stuck += 1;
                }
                JobState::Ready | JobState::Running { .. } => panic!(
                    "{id}: {} left {:?}\n{}",
                    job.kind.describe(),
                    job.state,
                    explain(id.as_str())
                ),
            }
        }
    }
    assert_eq!(
        listed_too_late,
        log.too_late.len(),
        "every TikTok cancel Amazon could no longer apply is listed with why: {:?}",
        log.too_late
    );
    // Each restart logs how many jobs the killed daemon left running.
    let released: usize = std::fs::read_to_string(data_dir.join("orderdeck.log"))
        .unwrap_or_default()
        .split("released_jobs=")
        .skip(1)
        .filter_map(|rest| {
            rest.split(|c: char| !c.is_ascii_digit())
                .next()
                .and_then(|n| n.parse::<usize>().ok())
        })
        .sum();
    let waiting = log
        .requests
        .iter()
        .filter(|(cancel, _)| !log.answered.contains(*cancel))
        .count();
    eprintln!(
        "crash test: {kills} kills in {:.0?}; {} TikTok orders, {} paid; {store_orders} store orders, \
         0 duplicates; {store_cancels} store cancels, {relayed} relayed to TikTok, {} admin cancels; \
         {pushed} tracking pushes; {labels} labels; {} buyer requests ({waiting} left waiting); \
         {} tokens expired, {} refreshes; \
         {jobs} jobs, {retries} retries, {released} interrupted by kills, {stuck} stuck on unknown SKUs; \
         {} damaged orders held, {} imported once readable; {parcels} split parcels, \
         {partials} partial cancels\n{others}",
        took,
        known.len(),
        log.importable.len() + log.unimportable.len(),
        log.admin_cancelled.len(),
        log.requests.len(),
        log.expired_tokens,
        set.tiktok.calls("refresh_token"),
        log.poisoned.len(),
        log.healed.len(),
    );
}

/// Orders shipped in two parcels: each parcel reached TikTok once as its own package, and no
/// unit is in two packages; once both went, every unit shipped exactly once.
fn check_split_shipments(
    set: &SandboxSet,
    log: &Log,
    known: &BTreeMap<String, Known>,
    explain: &dyn Fn(&str) -> String,
) -> usize {
    let mut parcels = 0;
    for (id, (numbers, seller_ships)) in &log.split {
        let writes = set.tiktok.tracking_writes(id) as usize;
        if !*seller_ships {
            assert_eq!(writes, 0, "{id}: TikTok ships it, yet tracking was pushed");
            continue;
        }
        let shipments = set.tiktok.shipments(id);
        for number in numbers {
            assert!(
                shipments.iter().any(|s| &s.tracking_number == number),
                "{id}: parcel {number} never reached TikTok: {shipments:?}\n{}",
                explain(id)
            );
        }
        assert_eq!(
            writes,
            numbers.len(),
            "{id}: {shipments:?}\n{}",
            explain(id)
        );
        let mut shipped = BTreeSet::new();
        for line in shipments.iter().flat_map(|s| &s.line_ids) {
            assert!(
                shipped.insert(line),
                "{id}: {line} shipped twice: {shipments:?}"
            );
        }
        if numbers.len() == 2 {
            assert_eq!(shipped.len(), known[id].lines.len(), "{id}: {shipments:?}");
        }
        parcels += numbers.len();
    }
    parcels
}

/// Orders TikTok cancelled some units of: exactly those left the store order, which stays
/// open; no kept unit was cancelled on either side, and none of the cancelled ones shipped.
fn check_partial_cancels(
    set: &SandboxSet,
    log: &Log,
    known: &BTreeMap<String, Known>,
    by_source: &HashMap<String, Vec<SandboxOrder>>,
    explain: &dyn Fn(&str) -> String,
) -> usize {
    let mut checked = 0;
    for (id, cancelled) in &log.part_cancelled {
        // The other platforms' part cancels are checked with their stores.
        let Some(order) = by_source.get(id).and_then(|o| o.first()) else {
            continue;
        };
        assert!(
            order.cancelled_at.is_none(),
            "{id}: the kept units were cancelled in the store\n{}",
            explain(id)
        );
        let held: u32 = order.lines.iter().map(|l| l.current_quantity).sum();
        assert_eq!(
            held as usize,
            known[id].lines.len() - cancelled.len(),
            "{id}: {:?}\n{}",
            order.lines,
            explain(id)
        );
        assert!(order.refunds.is_empty(), "{id} was refunded in the store");
        assert_ne!(set.tiktok.order_status(id).as_deref(), Some("CANCELLED"));
        let on_tiktok = set.tiktok.cancellations_of(id);
        // Only the buyer cancelled (and may have asked before): nothing went back as the seller's.
        assert!(
            on_tiktok.iter().all(|c| c.role != "SELLER"),
            "{id}: {on_tiktok:?}\n{}",
            explain(id)
        );
        for shipment in set.tiktok.shipments(id) {
            assert!(
                shipment.line_ids.iter().all(|l| !cancelled.contains(l)),
                "{id}: a cancelled unit shipped: {shipment:?}"
            );
        }
        checked += 1;
    }
    checked
}
