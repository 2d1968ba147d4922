//! Schema migrations. `meta/schema_version` records the shape of the stored domain types; at
//! open, [`run`] moves an older store forward one step at a time and refuses a newer one.
//!
//! Adding a version: write `fn v1_to_v2(store: &mut Store) -> Result<()>` (rewrite the records
//! whose shape changed, reading them as the old shape), append
//! `Step { from: 1, what: "...", run: v1_to_v2 }` to [`STEPS`], and `SCHEMA_VERSION` follows.
//! A step must be idempotent: the version is bumped after it succeeds, so a crash mid-step runs
//! it again. Indexes are rebuilt after any step ran, since derived keys may have changed.

use super::{Result, Store, StoreError, TreeId, codec, keys, meta};
use crate::domain::cancellation::Cancellation;
use crate::domain::job::Job;

/// One migration: from schema version `from` to `from + 1`.
#[derive(Clone, Copy)]
pub struct Step {
    pub from: u32,
    /// What it changes, for errors and logs.
    pub what: &'static str,
    pub run: fn(&mut Store) -> Result<()>,
}

/// Today's table.
pub const STEPS: &[Step] = &[
    Step {
        from: 1,
        what: "index each order's list text for filters (idx_order_text)",
        run: nothing_but_the_rebuild,
    },
    Step {
        from: 2,
        what: "index ready jobs by link and due time (idx_jobs_due_link), for fair claims",
        run: nothing_but_the_rebuild,
    },
    Step {
        from: 3,
        what: "list parcels shipped before TikTok cancelled (the parcels view)",
        run: nothing_but_the_rebuild,
    },
    Step {
        from: 4,
        what: "name store-side cancellations by their TikTok order, not the store's order id (store ids repeat across stores)",
        run: store_cancellations_by_tiktok_order,
    },
    Step {
        from: 5,
        what: "index orders by every column a list sorts by (idx_order_sort), and let \
               filters find tracking numbers (idx_order_text)",
        run: nothing_but_the_rebuild,
    },
    Step {
        from: 6,
        what: "count each list's orders by buckets of its sort keys (idx_rank_counts), so a \
               page at any offset skips whole buckets",
        run: nothing_but_the_rebuild,
    },
    Step {
        from: 7,
        what: "keep the orders' list texts in blocks of neighbouring order ids \
               (idx_order_text), so a filter's pass over every order reads a value per 16 \
               orders",
        run: nothing_but_the_rebuild,
    },
    Step {
        from: 8,
        what: "count each list's times by 18-hour buckets, no finer (idx_rank_counts): a \
               256-second bucket held one order per link, a count per order for nothing",
        run: nothing_but_the_rebuild,
    },
    Step {
        from: 9,
        what: "count order ids by their first 15 digits, no further (idx_rank_counts): \
               TikTok's ids have 18, so the 18-digit bucket held one order",
        run: nothing_but_the_rebuild,
    },
    Step {
        from: 10,
        what: "keep the entries of every list in blocks of neighbours (idx_views, \
               idx_order_sort): sled holds ~45 bytes of memory per value from the moment it \
               opens a store, and these were twelve values per order",
        run: nothing_but_the_rebuild,
    },
    Step {
        from: 11,
        what: "keep each order's place in the Orders view beside its list text \
               (idx_order_text), so a filter's many candidates sort into that list without a \
               walk of it",
        run: nothing_but_the_rebuild,
    },
    Step {
        from: 12,
        what: "keep each order's places in the Orders view by ship-by and by payment beside \
               its list text too (idx_order_text), so a filter's many candidates sort into \
               those lists without reading them",
        run: nothing_but_the_rebuild,
    },
    Step {
        from: 13,
        what: "pack each block of index entries with LZ4 (idx_views, idx_order_sort, \
               idx_order_text, idx_rank_counts), and records as they are written: sled keeps \
               every page a pass reads, and a pass over the texts of a million orders read \
               190 MB",
        run: nothing_but_the_rebuild,
    },
    Step {
        from: 14,
        what: "index each stuck flow by what it waits on (idx_stuck_causes): the store \
               panel and every poll read the causes of a link's stuck orders, and decoded \
               each of them (20,000 at a million orders) to do so",
        run: nothing_but_the_rebuild,
    },
];

/// For steps that only add an index: the rebuild that follows every migration derives it.
fn nothing_but_the_rebuild(_: &mut Store) -> Result<()> {
    Ok(())
}

/// Version 4 keyed a store-side cancellation (`{"kind":"store"|"store_units","id":...}`) by the
/// store's order id. WooCommerce, Magento and BigCommerce number orders from 1 in every store,
/// so order #136 of one link and #136 of another shared a record: the second cancel was taken
/// for already recorded and never relayed. Re-keys each such record, and every cancel job
/// naming one, by the record's TikTok order. Works on JSON, since the old ids are not TikTok
/// order ids; idempotent, as a re-keyed record re-keys to itself.
fn store_cancellations_by_tiktok_order(store: &mut Store) -> Result<()> {
    let tree = TreeId::Cancellations;
    let mut moves = Vec::new();
    for item in store.tree(tree).iter() {
        let (old_key, bytes) = item.map_err(StoreError::sled("reading cancellations"))?;
        let mut record: serde_json::Value = codec::decode(tree.name(), &old_key, &bytes)?;
        let order = record.get("order_id").cloned();
        if let (Some(order), Some(key)) = (order, record.get_mut("key"))
            && rekey_by_order(key, order)
        {
            let record: Cancellation = typed(tree, &old_key, record)?;
            moves.push((old_key, record));
        }
    }
    for (old_key, record) in moves {
        let new_key = keys::cancellation_key(&record.key);
        let value = codec::encode(tree.name(), &new_key, &record)?;
        let cancellations = store.tree(tree);
        cancellations
            .insert(&new_key, value)
            .map_err(StoreError::sled("re-keying a cancellation"))?;
        if new_key[..] != old_key[..] {
            cancellations
                .remove(&old_key)
                .map_err(StoreError::sled("re-keying a cancellation"))?;
        }
    }

    let tree = TreeId::Jobs;
    let mut rewritten = Vec::new();
    for item in store.tree(tree).iter() {
        let (key, bytes) = item.map_err(StoreError::sled("reading jobs"))?;
        let mut job: serde_json::Value = codec::decode(tree.name(), &key, &bytes)?;
        let order = job.get("order").cloned();
        let named = job
            .get_mut("kind")
            .and_then(|kind| kind.get_mut("cancellation"));
        if let (Some(order), Some(cancellation)) = (order, named)
            && rekey_by_order(cancellation, order)
        {
            let job: Job = typed(tree, &key, job)?;
            let value = codec::encode(tree.name(), &key, &job)?;
            rewritten.push((key, value));
        }
    }
    for (key, value) in rewritten {
        store
            .tree(tree)
            .insert(key, value)
            .map_err(StoreError::sled("re-keying a cancel job"))?;
    }
    Ok(())
}

/// Points a stored store-side cancellation key at `order`; false for any other key.
fn rekey_by_order(key: &mut serde_json::Value, order: serde_json::Value) -> bool {
    let units = match key.get("kind").and_then(|k| k.as_str()) {
        Some("store") => false,
        Some("store_units") => true,
        _ => return false,
    };
    let id = key.get_mut("id");
    let id = if units {
        id.and_then(|id| id.get_mut(0))
    } else {
        id
    };
    id.map(|id| *id = order).is_some()
}

/// Reads a rewritten record as today's type, failing with the tree and key at fault.
fn typed<T: serde::de::DeserializeOwned>(
    tree: TreeId,
    key: &[u8],
    value: serde_json::Value,
) -> Result<T> {
    serde_json::from_value(value).map_err(|source| StoreError::Decode {
        tree: tree.name(),
        key: keys::show(key),
        source,
    })
}

/// The schema this build writes: one past the last step.
pub const SCHEMA_VERSION: u32 = 1 + STEPS.len() as u32;

/// Brings the store to the version after `steps`; returns the version found if it migrated.
/// A fresh store is stamped with the current version.
pub(super) fn run(store: &mut Store, steps: &[Step]) -> Result<Option<u32>> {
    let target = 1 + steps.len() as u32;
    let Some(found) = stored_version(store)? else {
        return stamp_fresh(store, target).map(|()| None);
    };
    if found > target {
        return Err(StoreError::NewerSchema {
            data_dir: store.path().to_path_buf(),
            found,
            supported: target,
        });
    }
    if found == 0 {
        return Err(codec::corrupt(
            TreeId::Meta.name(),
            meta::SCHEMA_VERSION,
            "schema version 0 does not exist",
        ));
    }
    let mut current = found;
    for step in &steps[(found - 1) as usize..] {
        if step.from != current {
            return Err(StoreError::Migration {
                from: current,
                why: format!(
                    "the next step ({}) starts at version {}",
                    step.what, step.from
                ),
            });
        }
        (step.run)(store).map_err(|e| StoreError::Migration {
            from: current,
            why: format!("{}: {e}", step.what),
        })?;
        current += 1;
        write_version(store, current)?;
        store.flush()?;
    }
    if current != found {
        store.rebuild_indexes()?;
    }
    Ok((current != found).then_some(found))
}

fn stored_version(store: &Store) -> Result<Option<u32>> {
    store.get(TreeId::Meta, meta::SCHEMA_VERSION)
}

fn stamp_fresh(store: &Store, version: u32) -> Result<()> {
    let holds_data = TreeId::ALL.iter().any(|t| !store.tree(*t).is_empty());
    if holds_data {
        return Err(codec::corrupt(
            TreeId::Meta.name(),
            meta::SCHEMA_VERSION,
            "missing, but the store holds data; it was not written by orderdeck or is damaged",
        ));
    }
    write_version(store, version)?;
    store.flush()
}

pub(super) fn write_version(store: &Store, version: u32) -> Result<()> {
    let value = codec::encode(TreeId::Meta.name(), meta::SCHEMA_VERSION, &version)?;
    store
        .tree(TreeId::Meta)
        .insert(meta::SCHEMA_VERSION, value)
        .map(drop)
        .map_err(StoreError::sled("writing the schema version"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::cancellation::CancellationKey;
    use crate::domain::job::JobKind;
    use crate::domain::order::{FlowStatus, Order};
    use crate::domain::rules::fixtures::t;
    use crate::domain::settings::LinkSettings;
    use crate::domain::triage::OrderView;
    use crate::store::Change;
    use crate::store::tests::{
        config, every_order, index_entries, job, link, open, order, put_orders, set_index_entry,
        store_of_orders, tempdir,
    };

    fn defaults(_: &crate::domain::ids::LinkId) -> LinkSettings {
        LinkSettings::default()
    }

    #[test]
    fn the_step_table_is_contiguous_from_version_one() {
        for (i, step) in STEPS.iter().enumerate() {
            assert_eq!(step.from, i as u32 + 1, "{}", step.what);
        }
        assert_eq!(SCHEMA_VERSION, 1 + STEPS.len() as u32);
    }

    #[test]
    fn a_fresh_store_is_stamped_with_the_current_version() {
        let dir = tempdir();
        let store = open(dir.path());
        assert_eq!(stored_version(&store).unwrap(), Some(SCHEMA_VERSION));
        assert_eq!(store.open_report().migrated_from, None);
    }

    #[test]
    fn data_without_a_version_is_refused() {
        let dir = tempdir();
        let store = open(dir.path());
        store
            .tree(TreeId::Meta)
            .remove(meta::SCHEMA_VERSION)
            .unwrap();
        store
            .tree(TreeId::Links)
            .insert("uk", &b"\x01{}"[..])
            .unwrap();
        store.close().unwrap();
        let err = Store::open_with(&config(dir.path()))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("schema_version") && err.contains("holds data"),
            "{err}"
        );
    }

    #[test]
    fn newer_schema_is_refused_with_a_clear_error() {
        let dir = tempdir();
        let store = open(dir.path());
        write_version(&store, SCHEMA_VERSION + 1).unwrap();
        store.close().unwrap();
        let err = Store::open_with(&config(dir.path())).unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(
                err,
                StoreError::NewerSchema { found, supported, .. }
                    if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION
            ),
            "{text}"
        );
        assert!(
            text.contains("newer orderdeck") && text.contains(&dir.path().display().to_string()),
            "{text}"
        );
    }

    fn note_every_order(store: &mut Store) -> Result<()> {
        let mut orders = Vec::new();
        for item in store.tree(TreeId::Orders).iter() {
            let (key, bytes) = item.unwrap();
            let mut order: Order = codec::decode("orders", &key, &bytes)?;
            order.flows.import.status = FlowStatus::Stuck {
                reason: "migrated".into(),
            };
            orders.push(order);
        }
        // Writes behind the indexes' back, as a real step might: the rebuild after it fixes them.
        for order in orders {
            let value = codec::encode("orders", order.id.as_str().as_bytes(), &order)?;
            store
                .tree(TreeId::Orders)
                .insert(order.id.as_str(), value)
                .unwrap();
        }
        Ok(())
    }

    #[test]
    fn migration_steps_run_once_at_open_and_indexes_follow() {
        let dir = tempdir();
        let store = open(dir.path());
        store
            .apply(&Change {
                orders: vec![order("7", "uk")],
                ..Change::default()
            })
            .unwrap();
        store.close().unwrap();
        let mut steps = STEPS.to_vec();
        steps.push(Step {
            from: SCHEMA_VERSION,
            what: "mark every order stuck",
            run: note_every_order,
        });
        let migrated = Store::open_migrating(&config(dir.path()), &steps).unwrap();
        assert_eq!(migrated.open_report().migrated_from, Some(SCHEMA_VERSION));
        assert!(migrated.open_report().integrity.is_clean());
        let stuck = migrated
            .count_view(OrderView::Stuck, None, t(0), &defaults)
            .unwrap();
        assert_eq!(stuck, 1);
        migrated.close().unwrap();
        let again = Store::open_migrating(&config(dir.path()), &steps).unwrap();
        assert_eq!(again.open_report().migrated_from, None);
        again.close().unwrap();
        // this build's table stops one step earlier, so the migrated store is now "newer"
        let newer = SCHEMA_VERSION + 1;
        assert!(matches!(
            Store::open_with(&config(dir.path())),
            Err(StoreError::NewerSchema { found, .. }) if found == newer
        ));
    }

    #[test]
    fn a_version_1_store_gains_the_order_text_index_and_filters_find_its_orders() {
        let dir = tempdir();
        let store = open(dir.path());
        store
            .apply(&Change {
                orders: vec![order("7", "uk")],
                ..Change::default()
            })
            .unwrap();
        // What version 1 wrote: no idx_order_text.
        store.tree(TreeId::IdxOrderText).clear().unwrap();
        write_version(&store, 1).unwrap();
        store.close().unwrap();

        let migrated = Store::open_with(&config(dir.path())).unwrap();
        assert_eq!(migrated.open_report().migrated_from, Some(1));
        assert!(migrated.open_report().integrity.is_clean());
        let query = crate::store::ViewQuery {
            view: OrderView::All,
            link: None,
            offset: 0,
            limit: 50,
            now: t(0),
        };
        let filter = |needle: &'static str| {
            let text = move |text: &[u8]| memchr::memmem::find(text, needle.as_bytes()).is_some();
            migrated
                .page_matching(
                    &query,
                    crate::store::ListOrder::default(),
                    &defaults,
                    &crate::store::OrderFilter {
                        text: &text,
                        any_text: &text,
                        order: &|_| true,
                    },
                )
                .unwrap()
        };
        assert_eq!(filter("uk").items.len(), 1);
        assert!(filter("no such buyer").items.is_empty());
    }

    #[test]
    fn a_version_2_store_gains_the_per_link_due_index_and_claims_see_its_jobs() {
        let dir = tempdir();
        let store = open(dir.path());
        let uk = order("7", "uk");
        store
            .apply(&Change {
                orders: vec![uk.clone()],
                jobs: vec![job(1, &uk, t(0))],
                ..Change::default()
            })
            .unwrap();
        // What version 2 wrote: no idx_jobs_due_link.
        store.tree(TreeId::IdxJobsDueLink).clear().unwrap();
        write_version(&store, 2).unwrap();
        store.close().unwrap();

        let migrated = Store::open_with(&config(dir.path())).unwrap();
        assert_eq!(migrated.open_report().migrated_from, Some(2));
        assert!(migrated.open_report().integrity.is_clean());
        let due = migrated.due_jobs_of_link(&uk.link, t(1), 10).unwrap();
        assert_eq!(due.len(), 1);
    }

    /// Moves a record written today back to how version 4 stored it: under the store's order
    /// id `store_id` (with `#left` for units) instead of its TikTok order.
    fn as_version_4_wrote_it(store: &Store, record: &Cancellation, store_id: &str) {
        let tree = store.tree(TreeId::Cancellations);
        let key = keys::cancellation_key(&record.key);
        let mut value: serde_json::Value =
            codec::decode("cancellations", &key, &tree.remove(&key).unwrap().unwrap()).unwrap();
        let (tag, old_key) = match &record.key {
            CancellationKey::Store(_) => {
                value["key"]["id"] = store_id.into();
                (keys::TAG_STORE, store_id.to_string())
            }
            CancellationKey::StoreUnits(_, left) => {
                value["key"]["id"][0] = store_id.into();
                (keys::TAG_STORE_UNITS, format!("{store_id}#{left}"))
            }
            other => panic!("not a store-side key: {other}"),
        };
        let old_key = [&[tag][..], old_key.as_bytes()].concat();
        tree.insert(
            old_key,
            codec::encode("cancellations", &key, &value).unwrap(),
        )
        .unwrap();
    }

    #[test]
    fn a_version_4_store_names_store_cancellations_by_their_tiktok_order() {
        let dir = tempdir();
        let store = open(dir.path());
        let woo = order("7", "us-woo");
        let mage = order("8", "us-mage");
        let cancelled = store_side(&woo, CancellationKey::Store(woo.id.clone()));
        let trimmed = store_side(&mage, CancellationKey::StoreUnits(mage.id.clone(), 2));
        let mut relay = job(1, &woo, t(0));
        relay.kind = JobKind::CancelOnTiktok {
            cancellation: cancelled.key.clone(),
        };
        store
            .apply(&Change {
                orders: vec![woo.clone(), mage.clone()],
                cancellations: vec![cancelled.clone(), trimmed.clone()],
                jobs: vec![relay.clone()],
                ..Change::default()
            })
            .unwrap();
        // What version 4 wrote: WooCommerce order #136 and a Shopify order's units.
        as_version_4_wrote_it(&store, &cancelled, "136");
        as_version_4_wrote_it(&store, &trimmed, "gid://shopify/Order/136");
        let jobs = store.tree(TreeId::Jobs);
        let job_key = keys::job_key(relay.id);
        let mut old_job: serde_json::Value =
            codec::decode("jobs", &job_key, &jobs.get(job_key).unwrap().unwrap()).unwrap();
        old_job["kind"]["cancellation"]["id"] = "136".into();
        jobs.insert(job_key, codec::encode("jobs", &job_key, &old_job).unwrap())
            .unwrap();
        write_version(&store, 4).unwrap();
        drop(jobs);
        store.close().unwrap();

        let migrated = Store::open_with(&config(dir.path())).unwrap();
        assert_eq!(migrated.open_report().migrated_from, Some(4));
        assert!(migrated.open_report().integrity.is_clean());
        assert_eq!(
            migrated.cancellation(&cancelled.key).unwrap(),
            Some(cancelled)
        );
        assert_eq!(
            migrated.cancellation(&trimmed.key).unwrap(),
            Some(trimmed.clone())
        );
        assert_eq!(migrated.cancellations_of(&mage.id).unwrap(), vec![trimmed]);
        assert_eq!(migrated.job(relay.id).unwrap(), Some(relay));
        assert_eq!(migrated.tree(TreeId::Cancellations).len(), 2);
    }

    fn store_side(order: &Order, key: CancellationKey) -> Cancellation {
        let mut c = crate::store::tests::buyer_request("1", order, None);
        c.key = key;
        c.direction = crate::domain::cancellation::Direction::StoreToTiktok;
        c
    }

    #[test]
    fn a_version_5_store_gains_the_sort_index_and_tracking_in_filters() {
        use crate::domain::order_sort::OrderSort;
        use crate::domain::rules::fixtures::{fulfilled, in_store};
        use crate::store::{ListOrder, OrderFilter};

        let dir = tempdir();
        let store = open(dir.path());
        let mut anna = order("7", "uk");
        anna.tiktok.recipient.name = "Anna".into();
        let mut zoe = in_store(order("8", "uk"), vec![fulfilled("RM77GB", None)]);
        zoe.tiktok.recipient.name = "Zoe".into();
        store
            .apply(&Change {
                orders: vec![zoe, anna],
                ..Change::default()
            })
            .unwrap();
        // What version 5 wrote: no idx_order_sort, and texts without tracking numbers.
        store.tree(TreeId::IdxOrderSort).clear().unwrap();
        let texts = store.tree(TreeId::IdxOrderText);
        texts.insert("8", text_before_12("8\nuk\nzoe")).unwrap();
        write_version(&store, 5).unwrap();
        drop(texts);
        store.close().unwrap();

        let migrated = Store::open_with(&config(dir.path())).unwrap();
        assert_eq!(migrated.open_report().migrated_from, Some(5));
        assert!(migrated.open_report().integrity.is_clean());
        let query = crate::store::ViewQuery {
            view: OrderView::All,
            link: None,
            offset: 0,
            limit: 50,
            now: t(0),
        };
        let by_buyer = ListOrder {
            column: Some(OrderSort::Buyer),
            descending: true,
        };
        let page = migrated.page_sorted(&query, by_buyer, &defaults).unwrap();
        let buyers: Vec<&str> = page
            .items
            .iter()
            .map(|o| o.tiktok.recipient.name.as_str())
            .collect();
        assert_eq!(buyers, ["Zoe", "Anna"]);
        let text = |text: &[u8]| memchr::memmem::find(text, b"rm77gb").is_some();
        let filter = OrderFilter {
            text: &text,
            any_text: &text,
            order: &|_| true,
        };
        let found = migrated
            .page_matching(&query, ListOrder::default(), &defaults, &filter)
            .unwrap();
        assert_eq!(found.items.len(), 1);
        assert_eq!(found.total, Some(1));
    }

    #[test]
    fn a_version_6_store_gains_rank_counts_and_pages_deep_in_a_list() {
        use crate::domain::order_sort::OrderSort;
        use crate::store::ListOrder;

        let dir = tempdir();
        let store = store_of_orders(dir.path(), (100, 40), 3600, &["uk", "de"]);
        // What version 6 wrote: no idx_rank_counts.
        store.tree(TreeId::IdxRankCounts).clear().unwrap();
        write_version(&store, 6).unwrap();
        store.close().unwrap();

        let migrated = Store::open_with(&config(dir.path())).unwrap();
        assert_eq!(migrated.open_report().migrated_from, Some(6));
        assert!(migrated.open_report().integrity.is_clean());
        assert!(!migrated.tree(TreeId::IdxRankCounts).is_empty());
        let query = crate::store::ViewQuery {
            view: OrderView::All,
            link: None,
            offset: 17,
            limit: 3,
            now: t(0),
        };
        let by_id = ListOrder {
            column: Some(OrderSort::Id),
            descending: false,
        };
        let page = migrated.page_sorted(&query, by_id, &defaults).unwrap();
        let ids: Vec<&str> = page.items.iter().map(|o| o.id.as_str()).collect();
        assert_eq!(ids, ["117", "118", "119"]);
        let newest_first = migrated.page_view(&query, &defaults).unwrap();
        let ids: Vec<&str> = newest_first.items.iter().map(|o| o.id.as_str()).collect();
        assert_eq!(ids, ["122", "121", "120"]);
    }

    #[test]
    fn a_version_7_store_keeps_its_order_texts_in_blocks_and_filters_find_them() {
        use crate::domain::listing::search_text;
        use crate::store::{ListOrder, OrderFilter};

        let dir = tempdir();
        let store = open(dir.path());
        let orders: Vec<Order> = (0..30)
            .map(|n| {
                let mut o = order(&format!("{}", 500 + n), "uk");
                o.tiktok.recipient.name = format!("Buyer {n}");
                o
            })
            .collect();
        store
            .apply(&Change {
                orders: orders.clone(),
                ..Change::default()
            })
            .unwrap();
        // What version 7 wrote: one entry per order, keyed by its id.
        let texts = store.tree(TreeId::IdxOrderText);
        texts.clear().unwrap();
        for o in &orders {
            texts
                .insert(o.id.as_str(), text_before_12(&search_text(o)))
                .unwrap();
        }
        write_version(&store, 7).unwrap();
        drop(texts);
        store.close().unwrap();

        let migrated = Store::open_with(&config(dir.path())).unwrap();
        assert_eq!(migrated.open_report().migrated_from, Some(7));
        assert!(migrated.open_report().integrity.is_clean());
        let blocks = migrated.tree(TreeId::IdxOrderText);
        assert_eq!(blocks.len(), 1, "30 texts fit one block");
        assert_eq!(blocks.first().unwrap().unwrap().0, b"");
        let query = every_order(0, 50);
        for (wanted, expected) in [("buyer 17", vec!["517"]), ("nobody", vec![])] {
            let text = |text: &[u8]| memchr::memmem::find(text, wanted.as_bytes()).is_some();
            let filter = OrderFilter {
                text: &text,
                any_text: &text,
                order: &|o: &Order| search_text(o).contains(wanted),
            };
            let found = migrated
                .page_matching(&query, ListOrder::default(), &defaults, &filter)
                .unwrap();
            let ids: Vec<&str> = found.items.iter().map(|o| o.id.as_str()).collect();
            assert_eq!((ids, found.total), (expected.clone(), Some(expected.len())));
        }
    }

    /// What versions 8 and 9 wrote besides today's counts: the entries of `list` (an index
    /// range of `tree` from `prefix`, its tail after `prefix_len` bytes) counted at `level` by
    /// their tails' first `cut` bytes. Those counts go with the migration, and a page deep in the
    /// list in `order` (newest or highest id first), read by today's counts, is still right.
    fn finer_counts_go(
        version: u32,
        (tree, prefix, prefix_len): (TreeId, Vec<u8>, usize),
        (list, level, cut): (Vec<u8>, u8, usize),
        (first_id, order): (i64, crate::store::ListOrder),
    ) {
        use std::collections::BTreeMap;

        let dir = tempdir();
        let store = store_of_orders(dir.path(), (first_id, 40), 300, &["uk"]);
        let mut finer: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        for (key, _) in index_entries(&store, tree) {
            if !key.starts_with(&prefix) {
                continue;
            }
            let tail = &key[prefix_len..];
            *finer
                .entry(keys::rank_key(&list, level, &tail[..cut]))
                .or_default() += 1;
        }
        assert!(finer.len() > 1);
        for (key, count) in &finer {
            let value = codec::count_value(*count);
            set_index_entry(&store, TreeId::IdxRankCounts, key, Some(&value));
        }
        write_version(&store, version).unwrap();
        store.close().unwrap();

        let migrated = Store::open_with(&config(dir.path())).unwrap();
        assert_eq!(migrated.open_report().migrated_from, Some(version));
        assert!(migrated.open_report().integrity.is_clean());
        let counts = index_entries(&migrated, TreeId::IdxRankCounts);
        assert!(counts.iter().all(|(key, _)| !finer.contains_key(key)));
        let page = migrated.page_sorted(&every_order(25, 3), order, &defaults);
        let page = page.unwrap();
        let ids: Vec<String> = page.items.iter().map(|o| o.id.to_string()).collect();
        let expected: Vec<String> = (12..15).rev().map(|n| (first_id + n).to_string()).collect();
        assert_eq!((page.total, ids), (40, expected));
    }

    #[test]
    fn a_version_8_store_drops_its_256_second_counts_and_still_pages_deep() {
        // The All view's own list by 256-second buckets: a time's first 7 bytes, level 3.
        let prefix = keys::view_prefix(OrderView::All, None);
        let list = keys::rank_list_of_view(&prefix);
        let len = prefix.len();
        finer_counts_go(
            8,
            (TreeId::IdxViews, prefix, len),
            (list, 3, 7),
            (300, crate::store::ListOrder::default()),
        );
    }

    #[test]
    fn a_version_9_store_drops_its_18_digit_counts_and_still_pages_deep() {
        // The All view by order id, by whole 18-digit ids: level 6.
        use crate::domain::order_sort::OrderSort;
        let code = keys::sort_code(OrderView::All, OrderSort::Id);
        let list = keys::rank_list_of_sort(code, None);
        let highest_first = crate::store::ListOrder {
            column: Some(OrderSort::Id),
            descending: true,
        };
        let by_id = (576_400_000_000_000_300, highest_first);
        finer_counts_go(
            9,
            (TreeId::IdxOrderSort, vec![code], 1),
            (list, 6, 18),
            by_id,
        );
    }

    #[test]
    fn a_version_10_store_keeps_its_list_entries_in_blocks_and_sorts_as_before() {
        use crate::domain::order_sort::OrderSort;
        use crate::store::ListOrder;
        use crate::store::index::order_entries;

        let dir = tempdir();
        let store = open(dir.path());
        let orders: Vec<Order> = (0..40)
            .map(|n| {
                let mut o = order(&format!("{}", 700 + n), "uk");
                // Buyers in another order than the ids: "Buyer 39" first, "Buyer 00" last.
                o.tiktok.recipient.name = format!("Buyer {:02}", 39 - n);
                o
            })
            .collect();
        put_orders(&store, &orders);
        // What version 10 wrote: one value per list entry, keyed by the entry's key.
        let lists = [TreeId::IdxViews, TreeId::IdxOrderSort];
        for tree in lists {
            store.tree(tree).clear().unwrap();
        }
        let mut plain = 0;
        for entry in orders.iter().flat_map(order_entries) {
            if lists.contains(&entry.tree) {
                store
                    .tree(entry.tree)
                    .insert(entry.key, entry.value)
                    .unwrap();
                plain += 1;
            }
        }
        write_version(&store, 10).unwrap();
        store.close().unwrap();

        let migrated = Store::open_with(&config(dir.path())).unwrap();
        assert_eq!(migrated.open_report().migrated_from, Some(10));
        assert!(migrated.open_report().integrity.is_clean());
        let blocks: usize = lists.map(|tree| migrated.tree(tree).len()).iter().sum();
        assert!(
            blocks * 16 <= plain + 32,
            "{plain} list entries in {blocks} blocks"
        );
        for (column, offset, expected) in [
            (
                Some(OrderSort::Buyer),
                5,
                ["Buyer 05", "Buyer 06", "Buyer 07"],
            ),
            // Its own order: newest first, then by id (these share a creation time).
            (None, 5, ["Buyer 34", "Buyer 33", "Buyer 32"]),
        ] {
            let order = ListOrder {
                column,
                descending: false,
            };
            let page = migrated
                .page_sorted(&every_order(offset, 3), order, &defaults)
                .unwrap();
            let buyers: Vec<&str> = page
                .items
                .iter()
                .map(|o| o.tiktok.recipient.name.as_str())
                .collect();
            assert_eq!((page.total, buyers), (40, expected.to_vec()), "{column:?}");
        }
    }

    /// An `idx_order_text` value as versions before 12 wrote it: the text alone.
    fn text_before_12(text: &str) -> Vec<u8> {
        [&[codec::FORMAT_INDEX][..], text.as_bytes()].concat()
    }

    /// An `idx_order_text` value as version 12 wrote it: the order's place in the Orders view
    /// (its creation, negated), its link, its text.
    fn text_of_12(o: &Order) -> Vec<u8> {
        let link = o.link.as_str().as_bytes();
        let mut out = vec![codec::FORMAT_INDEX];
        out.extend_from_slice(&(-o.tiktok.created_at.timestamp()).to_be_bytes());
        out.push(u8::try_from(link.len()).unwrap());
        out.extend_from_slice(link);
        out.extend_from_slice(crate::domain::listing::search_text(o).as_bytes());
        out
    }

    #[test]
    fn a_version_11_store_places_each_text_in_the_orders_view_and_filters_page_in_its_order() {
        texts_written_by(11, |o| {
            text_before_12(&crate::domain::listing::search_text(o))
        });
    }

    #[test]
    fn a_version_12_store_places_each_text_by_ship_by_and_payment_and_filters_page_so() {
        texts_written_by(12, text_of_12);
    }

    /// A store whose texts `version` wrote (`text_value`) migrates, and a filter with many
    /// matches (more than a test's `FEW_CANDIDATES`) pages the Orders view in its own order and
    /// by every column of times, both ways, of every link and of one.
    fn texts_written_by(version: u32, text_value: fn(&Order) -> Vec<u8>) {
        use crate::domain::order_sort::OrderSort;
        use crate::store::{ListOrder, OrderFilter};

        let dir = tempdir();
        let store = open(dir.path());
        // Creation, ship-by and payment each order the 40 orders differently (7 and 3 are
        // prime to 40); the last order has no ship-by, so it sorts after every other.
        let orders: Vec<Order> = (0..40)
            .map(|n| {
                let mut o = order(
                    &format!("{}", 900 + n),
                    if n % 2 == 0 { "uk" } else { "de" },
                );
                o.tiktok.created_at = t(i64::from(n) * 60);
                o.tiktok.ship_by = (n != 39).then(|| t(10_000 + i64::from(n * 7 % 40) * 60));
                o.tiktok.paid_at = Some(t(5_000 + i64::from(n * 3 % 40) * 60));
                o.tiktok.recipient.name =
                    format!("Buyer {}", if n % 4 < 2 { "kim" } else { "lee" });
                o
            })
            .collect();
        put_orders(&store, &orders);
        let texts = store.tree(TreeId::IdxOrderText);
        texts.clear().unwrap();
        let mut old = crate::store::blocks::BlockChanges::new(TreeId::IdxOrderText);
        for o in &orders {
            old.set(o.id.as_str().as_bytes(), Some(&text_value(o)));
        }
        old.write_plainly(&texts).unwrap();
        write_version(&store, version).unwrap();
        drop(texts);
        store.close().unwrap();

        let migrated = Store::open_with(&config(dir.path())).unwrap();
        assert_eq!(migrated.open_report().migrated_from, Some(version));
        assert!(migrated.open_report().integrity.is_clean());
        let text = |text: &[u8]| memchr::memmem::find(text, b"buyer kim").is_some();
        let filter = OrderFilter {
            text: &text,
            any_text: &text,
            order: &|o: &Order| o.tiktok.recipient.name == "Buyer kim",
        };
        let uk = link("uk");
        // What each list compares first: every time here differs from every other.
        let by = |column: Option<OrderSort>, o: &Order| match column {
            None => -o.tiktok.created_at.timestamp(),
            Some(OrderSort::Created) => o.tiktok.created_at.timestamp(),
            Some(OrderSort::ShipBy) => o.tiktok.ship_by.map_or(i64::MAX, |at| at.timestamp()),
            Some(OrderSort::Paid) => o.paid_or_created().timestamp(),
            Some(other) => panic!("not a column of times: {other:?}"),
        };
        let columns = [
            None,
            Some(OrderSort::Created),
            Some(OrderSort::ShipBy),
            Some(OrderSort::Paid),
        ];
        for column in columns {
            for descending in [false, true] {
                for link in [None, Some(&uk)] {
                    let mut listed: Vec<&Order> = orders
                        .iter()
                        .filter(|o| o.tiktok.recipient.name == "Buyer kim")
                        .filter(|o| link.is_none_or(|link| o.link == *link))
                        .collect();
                    listed.sort_by_key(|o| by(column, o));
                    if descending {
                        listed.reverse();
                    }
                    let expected: Vec<&str> = listed[..4].iter().map(|o| o.id.as_str()).collect();
                    let query = crate::store::ViewQuery {
                        view: OrderView::All,
                        link,
                        offset: 0,
                        limit: 4,
                        now: t(0),
                    };
                    let order = ListOrder { column, descending };
                    let page = migrated
                        .page_matching(&query, order, &defaults, &filter)
                        .unwrap();
                    let ids: Vec<&str> = page.items.iter().map(|o| o.id.as_str()).collect();
                    assert_eq!(
                        ids, expected,
                        "{column:?}, descending {descending}, {link:?}"
                    );
                }
            }
        }
    }

    /// Version 13 stored each block unpacked (`FORMAT_INDEX`, then the layout it packs today)
    /// and each record's JSON as it is. Its blocks go with the migration, its records stay until
    /// rewritten, and its lists, counts and filters read as before.
    #[test]
    fn a_version_13_store_packs_its_blocks() {
        use crate::domain::order_sort::OrderSort;
        use crate::store::{ListOrder, OrderFilter, blocks};

        let dir = tempdir();
        let store = store_of_orders(dir.path(), (100, 90), 600, &["uk", "de", "fr"]);
        let before = store.page_view(&every_order(40, 10), &defaults).unwrap();
        let mut unpacked_blocks = 0;
        for tree in blocks::BLOCKED {
            let tree_id = tree;
            let tree = store.tree(tree_id);
            for item in tree.iter() {
                let (key, stored) = item.unwrap();
                let mut layout = Vec::new();
                blocks::unpack_into(tree_id, &key, &stored, &mut layout).unwrap();
                let as_written = [&[codec::FORMAT_INDEX][..], &layout].concat();
                tree.insert(key, as_written).unwrap();
                unpacked_blocks += 1;
            }
        }
        assert!(unpacked_blocks > 4, "{unpacked_blocks} blocks");
        // Its records were JSON as it is, never packed.
        let records = store.tree(TreeId::Orders);
        for item in records.iter() {
            let (key, stored) = item.unwrap();
            let json = codec::json_of("orders", &key, &stored)
                .unwrap()
                .into_owned();
            records
                .insert(key, [&[codec::FORMAT_JSON][..], &json].concat())
                .unwrap();
        }
        write_version(&store, 13).unwrap();
        drop(records);
        store.close().unwrap();

        let migrated = Store::open_with(&config(dir.path())).unwrap();
        assert_eq!(migrated.open_report().migrated_from, Some(13));
        assert!(migrated.open_report().integrity.is_clean());
        for tree in blocks::BLOCKED {
            for item in migrated.tree(tree).iter() {
                let (_, stored) = item.unwrap();
                assert_eq!(stored[0], codec::FORMAT_BLOCK, "{}", tree.name());
            }
        }
        assert_eq!(
            migrated.page_view(&every_order(40, 10), &defaults).unwrap(),
            before
        );
        let by_id = ListOrder {
            column: Some(OrderSort::Id),
            descending: true,
        };
        let page = migrated
            .page_sorted(&every_order(0, 3), by_id, &defaults)
            .unwrap();
        let ids: Vec<&str> = page.items.iter().map(|o| o.id.as_str()).collect();
        assert_eq!(ids, ["189", "188", "187"]);
        let text = |text: &[u8]| memchr::memmem::find(text, b"\nfr\n").is_some();
        let filter = OrderFilter {
            text: &text,
            any_text: &text,
            order: &|o: &Order| o.link.as_str() == "fr",
        };
        let query = every_order(0, 50);
        assert_eq!(
            migrated.count_matching(&query, &defaults, &filter).unwrap(),
            30
        );
    }
}
