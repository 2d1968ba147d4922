//! Open, close, crash and repair: the lock error, clean versus crashed shutdown (quick versus
//! full check, `Running` jobs released), a real crash of a child process, index damage found
//! and rebuilt (at open, or by the check a large store defers), counters that fell behind, and
//! the async apply.

use std::process::Command;

use super::*;
use crate::domain::job::JobState;
use crate::domain::rules::fixtures::t;
use crate::store::{Change, CheckDepth, StoreError, TreeId, keys};

#[test]
fn a_second_open_is_refused_with_advice() {
    let dir = tempdir();
    let store = open(dir.path());
    // sled locks the file with flock, which conflicts across file descriptions even within one
    // process, so a second open here behaves like a second process.
    let impatient = StoreConfig {
        lock_wait: std::time::Duration::from_millis(20),
        ..config(dir.path())
    };
    let err = Store::open_with(&impatient).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, StoreError::Locked { .. }), "{text}");
    assert!(
        text.contains(&config(dir.path()).path.display().to_string()),
        "{text}"
    );
    assert!(
        text.contains("orderdeck serve") && text.contains("stop it"),
        "{text}"
    );
    drop(store);
    open(dir.path()).close().unwrap();
}

#[test]
fn clean_close_gets_a_quick_check_and_a_crash_a_full_one() {
    let dir = tempdir();
    let store = open(dir.path());
    assert_eq!(
        store.open_report().integrity.depth,
        CheckDepth::Full,
        "a new store has no marker"
    );
    let o = order("1", "uk");
    let running = Job {
        state: JobState::Running { since: t(5) },
        ..job(1, &o, t(0))
    };
    store
        .apply(&Change {
            orders: vec![o.clone()],
            jobs: vec![running.clone()],
            ..Change::default()
        })
        .unwrap();
    assert!(store.due_jobs(t(100), 10).unwrap().is_empty());
    drop(store); // no close: as if the process died

    let store = open(dir.path());
    let report = store.open_report();
    assert_eq!(report.integrity.depth, CheckDepth::Full);
    assert!(
        report.integrity.is_clean(),
        "{:?}",
        report.integrity.problems
    );
    assert_eq!(report.released_jobs, [JobId(1)]);
    let released = store.job(JobId(1)).unwrap().unwrap();
    assert_eq!(released.state, JobState::Ready);
    assert!(
        released.maybe_applied,
        "the call may have reached the platform"
    );
    assert_eq!(
        released.last_attempt_at,
        Some(t(5)),
        "a read-back after it knows when the attempt began"
    );
    assert_eq!(store.due_jobs(t(100), 10).unwrap(), vec![released]);
    store.close().unwrap();

    let store = open(dir.path());
    assert_eq!(store.open_report().integrity.depth, CheckDepth::Quick);
    assert!(store.open_report().released_jobs.is_empty());
}

const CHILD_DIR: &str = "ORDERDECK_STORE_TEST_CRASH_DIR";
const CHILD_EXIT: i32 = 17;

/// Runs only inside the child process spawned below: writes, then dies without closing.
#[test]
fn crash_child() {
    let Some(dir) = std::env::var_os(CHILD_DIR) else {
        return;
    };
    let store = open(std::path::Path::new(&dir));
    let o = order("576461413038785752", "uk");
    let id = store.allocate_job_id().unwrap();
    let running = Job {
        state: JobState::Running { since: t(5) },
        ..job(id.0, &o, t(0))
    };
    store
        .apply(&Change {
            orders: vec![o],
            jobs: vec![running],
            ..Change::default()
        })
        .unwrap();
    // exit skips destructors: sled is not flushed or closed, the lock is dropped by the kernel
    std::process::exit(CHILD_EXIT);
}

#[test]
fn a_crashed_process_loses_no_job() {
    let dir = tempdir();
    let status = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "store::tests::lifecycle::crash_child",
            "--test-threads=1",
        ])
        .env(CHILD_DIR, dir.path())
        .status()
        .unwrap();
    assert_eq!(
        status.code(),
        Some(CHILD_EXIT),
        "the child ran the crash helper"
    );
    let store = open(dir.path());
    let report = store.open_report();
    assert_eq!(report.integrity.depth, CheckDepth::Full);
    assert!(
        report.integrity.is_clean(),
        "{:?}",
        report.integrity.problems
    );
    assert_eq!(report.released_jobs, [JobId(1)]);
    let live = store.live_jobs_of(&order_id("576461413038785752")).unwrap();
    assert_eq!(live.len(), 1);
    assert!(live[0].maybe_applied && live[0].state == JobState::Ready);
    assert!(
        store.allocate_job_id().unwrap() > JobId(1),
        "ids are never reused"
    );
}

#[test]
fn damaged_indexes_are_named_and_rebuilt() {
    let dir = tempdir();
    let mut store = open(dir.path());
    let a = order("1", "uk");
    let b = order("2", "de");
    store
        .apply(&Change {
            orders: vec![a.clone(), b.clone()],
            jobs: vec![job(1, &a, t(0))],
            ..Change::default()
        })
        .unwrap();
    let views = TreeId::IdxViews;
    let (first_key, _) = index_entries(&store, views).remove(0);
    set_index_entry(&store, views, &first_key, None);
    let stray = keys::view_key(
        crate::domain::triage::OrderView::Stuck,
        None,
        5,
        &order_id("3"),
    );
    let value = crate::store::codec::view_value(t(0), "uk");
    set_index_entry(&store, views, &stray, Some(&value));
    let (last_key, _) = index_entries(&store, views).pop().unwrap();
    let value = crate::store::codec::view_value(t(1), "uk");
    set_index_entry(&store, views, &last_key, Some(&value));
    let all_uk = keys::view_prefix(crate::domain::triage::OrderView::All, Some(&a.link));
    store
        .tree(TreeId::IdxViewCounts)
        .insert(all_uk.clone(), crate::store::codec::count_value(7))
        .unwrap();
    store
        .tree(TreeId::IdxJobsDue)
        .insert(b"not a due key", &b"\x02"[..])
        .unwrap();
    let (sort_key, _) = index_entries(&store, TreeId::IdxOrderSort).remove(0);
    set_index_entry(&store, TreeId::IdxOrderSort, &sort_key, None);
    let sorted_order = keys::order_of_sort_key(&sort_key).unwrap().to_vec();

    let report = store.check(CheckDepth::Full).unwrap();
    let (ranks, mut found): (Vec<_>, Vec<_>) = report
        .problems
        .iter()
        .map(|p| (p.tree, p.key.clone(), p.what.clone()))
        .partition(|(tree, _, _)| *tree == "idx_rank_counts");
    found.sort();
    let show = keys::show;
    assert_eq!(found.len(), 6, "{found:#?}");
    // The rank counts were kept for the index as it was: they disagree with the damaged one.
    assert!(
        ranks
            .iter()
            .any(|(_, _, what)| what.contains("but its bucket holds")),
        "{ranks:#?}"
    );
    assert!(
        found.contains(&(
            "idx_order_sort",
            show(&sort_key),
            format!("missing; orders record {} implies it", show(&sorted_order))
        )),
        "{found:#?}"
    );
    let count_problem = (
        "idx_view_counts",
        show(&all_uk),
        "count is 7, but the view holds 1 orders".to_string(),
    );
    assert!(found.contains(&count_problem), "{found:#?}");
    assert!(
        found.contains(&(
            "idx_views",
            show(&first_key),
            "missing; orders record 1 implies it".into()
        )),
        "{found:#?}"
    );
    assert!(found.iter().any(|(t, k, w)| *t == "idx_views"
        && *k == show(&stray)
        && w.contains("record 3, which does not exist")));
    assert!(found.iter().any(|(t, k, w)| *t == "idx_views"
        && *k == show(&last_key)
        && w.contains("value disagrees")));
    assert!(
        found
            .iter()
            .any(|(t, _, w)| *t == "idx_jobs_due" && w.contains("does not parse"))
    );

    let rebuilt = store.rebuild_indexes().unwrap();
    assert!(rebuilt.skipped.is_empty());
    assert_eq!(
        rebuilt.entries,
        6 + 6 + 3 + 2 + 2 * (10 + 10 + 11),
        "two orders in three views, two scopes; one job, due (globally and for its link); two \
         order texts; each order's three lists by their columns"
    );
    assert!(store.check(CheckDepth::Full).unwrap().is_clean());
    assert_eq!(store.due_jobs(t(0), 5).unwrap().len(), 1);
}

/// Order texts live in shared blocks: a block cut short and a text that disagrees with its
/// order are each named (the block by its key, the text by its order), a filter reading the
/// damaged block fails naming it, and the rebuild restores both.
#[test]
fn damaged_blocks_of_order_texts_are_named_and_rebuilt() {
    let dir = tempdir();
    let mut store = open(dir.path());
    let orders: Vec<_> = (0..40)
        .map(|n| order(&format!("{}", 700 + n), "uk"))
        .collect();
    store
        .apply(&Change {
            orders: orders.clone(),
            ..Change::default()
        })
        .unwrap();
    let blocks = store.tree(TreeId::IdxOrderText);
    assert_eq!(blocks.len(), 3, "40 texts in blocks of 16, 16 and 8");
    // A stale text: the first block rewritten with its first order's text changed.
    let stale_id = "700";
    let stale_block: &[u8] = b"";
    let stored = blocks.get(stale_block).unwrap().unwrap();
    let mut layout = Vec::new();
    crate::store::blocks::unpack_into(TreeId::IdxOrderText, stale_block, &stored, &mut layout)
        .unwrap();
    let at = layout
        .windows(3)
        .position(|w| w == b"700")
        .expect("the id is in its block");
    // Past its key (3 bytes), its value's length (4) and format byte: its place in the list.
    layout[at + 3 + 4 + 1] ^= 0xff;
    let edited = crate::store::blocks::pack(TreeId::IdxOrderText, &layout).unwrap();
    blocks.insert(stale_block, edited).unwrap();
    // The last block cut short.
    let (cut_block, bytes) = blocks.last().unwrap().unwrap();
    blocks
        .insert(&cut_block, &bytes[..bytes.len() - 2])
        .unwrap();

    let report = store.check(CheckDepth::Full).unwrap();
    let found: Vec<_> = report
        .problems
        .iter()
        .map(|p| (p.tree, p.key.clone(), p.what.clone()))
        .collect();
    assert!(
        found.iter().any(|(t, k, w)| *t == "idx_order_text"
            && *k == keys::show(&cut_block)
            && w.contains("unpack")),
        "{found:#?}"
    );
    assert!(
        found.contains(&(
            "idx_order_text",
            stale_id.to_string(),
            format!("value disagrees with orders record {stale_id}")
        )),
        "{found:#?}"
    );
    let query = every_order(0, 50);
    let nothing = |_: &[u8]| false;
    let filter = crate::store::OrderFilter {
        text: &nothing,
        any_text: &nothing,
        order: &|_| false,
    };
    let refused = store
        .count_matching(&query, &|_| Default::default(), &filter)
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("idx_order_text") && refused.contains("unpack"),
        "{refused}"
    );

    drop(blocks);
    store.rebuild_indexes().unwrap();
    assert!(store.check(CheckDepth::Full).unwrap().is_clean());
    let wanted = |text: &[u8]| text.starts_with(b"700") || text.starts_with(b"739");
    let filter = crate::store::OrderFilter {
        text: &wanted,
        any_text: &|_| true,
        order: &|_| true,
    };
    let count = store
        .count_matching(&query, &|_| Default::default(), &filter)
        .unwrap();
    assert_eq!(count, 2);
}

/// Two orders, one of their `idx_views` entries lost, then a crash (no close).
fn crashed_with_a_damaged_index(dir: &std::path::Path) -> Vec<u8> {
    let store = open(dir);
    store
        .apply(&Change {
            orders: vec![order("1", "uk"), order("2", "de")],
            ..Change::default()
        })
        .unwrap();
    let (lost, _) = index_entries(&store, TreeId::IdxViews).remove(0);
    set_index_entry(&store, TreeId::IdxViews, &lost, None);
    lost
}

#[test]
fn a_damaged_index_found_at_open_is_rebuilt_before_use() {
    let dir = tempdir();
    let lost = crashed_with_a_damaged_index(dir.path());
    let store = open(dir.path());
    let report = store.open_report();
    assert!(!report.deferred_check);
    assert_eq!(report.integrity.depth, CheckDepth::Full);
    assert!(
        report
            .integrity
            .problems
            .iter()
            .any(|p| p.key == keys::show(&lost)),
        "{:?}",
        report.integrity.problems
    );
    assert!(report.rebuilt.as_ref().is_some_and(|r| r.entries > 0));
    let views = index_entries(&store, TreeId::IdxViews);
    assert!(views.iter().any(|(key, _)| *key == lost));
    assert!(store.check(CheckDepth::Full).unwrap().is_clean());
}

#[test]
fn a_large_store_opens_at_once_and_owes_the_full_check_until_it_ran() {
    let dir = tempdir();
    let lost = crashed_with_a_damaged_index(dir.path());
    let large = StoreConfig {
        full_check_at_open: 1,
        ..config(dir.path())
    };
    let store = Store::open_with(&large).unwrap();
    let report = store.open_report();
    assert!(report.deferred_check);
    assert_eq!(report.integrity.depth, CheckDepth::Quick);
    assert!(report.rebuilt.is_none());
    // A clean close before the check ran does not forgive it.
    store.close().unwrap();
    let store = Store::open_with(&large).unwrap();
    assert!(store.open_report().deferred_check);

    let (report, rebuilt) = store
        .run_deferred_check()
        .unwrap()
        .expect("a check was due");
    assert_eq!(report.depth, CheckDepth::Full);
    assert!(report.problems.iter().all(|p| p.is_in_an_index()));
    assert!(!report.is_clean() && rebuilt.is_some());
    let views = index_entries(&store, TreeId::IdxViews);
    assert!(views.iter().any(|(key, _)| *key == lost));
    assert!(store.run_deferred_check().unwrap().is_none(), "done once");
    store.close().unwrap();
    let store = Store::open_with(&large).unwrap();
    assert!(!store.open_report().deferred_check);
    assert_eq!(store.open_report().integrity.depth, CheckDepth::Quick);
}

#[test]
fn counters_behind_the_data_are_reported() {
    let dir = tempdir();
    let store = open(dir.path());
    let o = order("1", "uk");
    store
        .apply(&Change {
            jobs: vec![job(9, &o, t(0))],
            audit: vec![audit(t(0), "x")],
            ..Change::default()
        })
        .unwrap();
    assert!(store.check(CheckDepth::Quick).unwrap().is_clean());
    crate::store::codec::encode("meta", b"job_id_high", &3u64)
        .map(|v| store.tree(TreeId::Meta).insert("job_id_high", v).unwrap())
        .unwrap();
    let report = store.check(CheckDepth::Quick).unwrap();
    assert_eq!(report.problems.len(), 1);
    assert_eq!(
        (report.problems[0].tree, report.problems[0].key.as_str()),
        ("meta", "job_id_high")
    );
    assert!(report.problems[0].what.contains("9 is already in use"));
}

#[test]
fn unknown_format_bytes_are_found_by_the_quick_check() {
    let dir = tempdir();
    let store = open(dir.path());
    store
        .tree(TreeId::Payloads)
        .insert("42", &b"\x07{}"[..])
        .unwrap();
    let report = store.check(CheckDepth::Quick).unwrap();
    assert_eq!(report.problems.len(), 1);
    assert_eq!(
        report.problems[0].to_string(),
        "tree payloads, key 42: unknown format byte 7 (written by a newer orderdeck?)"
    );
}

#[test]
fn apply_async_writes_and_flushes() {
    let dir = tempdir();
    let store = open(dir.path());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let o = order("1", "uk");
    runtime
        .block_on(store.apply_async(&Change {
            orders: vec![o.clone()],
            ..Change::default()
        }))
        .unwrap();
    assert_eq!(store.order(&o.id).unwrap(), Some(o));
}

/// While a check keeps writes out, an engine write waits without holding its thread: on a
/// one-thread runtime, a task beside it still runs (the daemon goes on answering).
#[test]
fn writes_wait_for_a_check_without_blocking_their_thread() {
    let dir = tempdir();
    let store = std::sync::Arc::new(open(dir.path()));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let held = std::sync::Arc::new(std::sync::Barrier::new(2));
    let checker = {
        let (store, held) = (store.clone(), held.clone());
        std::thread::spawn(move || {
            let _alone = store.writes.write().unwrap();
            held.wait();
            std::thread::sleep(std::time::Duration::from_millis(300));
        })
    };
    held.wait();
    let o = order("1", "uk");
    let events = std::sync::Mutex::new(Vec::new());
    runtime.block_on(async {
        let write = async {
            store
                .apply_async(&Change {
                    orders: vec![o.clone()],
                    ..Change::default()
                })
                .await
                .unwrap();
            events.lock().unwrap().push("written");
        };
        let beside = async {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            events.lock().unwrap().push("answered");
        };
        tokio::join!(write, beside);
    });
    checker.join().unwrap();
    assert_eq!(*events.lock().unwrap(), ["answered", "written"]);
    assert_eq!(store.order(&o.id).unwrap(), Some(o));
}

/// sled writes its recovery snapshot only when it opens a store, so the store reopens itself
/// once enough was written (after a bulk import, or when the daemon asks). Readers walking its
/// lists meanwhile hold the handles they read with and take more as they go: they wait for the
/// reopen, or it for them, and none fails. Nothing written is lost, also by a crash after.
#[test]
fn a_store_reopens_itself_while_read_and_loses_nothing() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let dir = tempdir();
    let config = StoreConfig {
        reopen_after_bytes: 32 * 1024,
        ..config(dir.path())
    };
    let store = Arc::new(Store::open_with(&config).unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (store, stop) = (store.clone(), stop.clone());
            std::thread::spawn(move || {
                let settings = |_: &LinkId| Default::default();
                let everything = |_: &[u8]| true;
                let filter = crate::store::OrderFilter {
                    text: &everything,
                    any_text: &everything,
                    order: &|_: &Order| true,
                };
                let mut pages = 0;
                while !stop.load(Ordering::Relaxed) {
                    let q = every_order(0, 20);
                    let matched = store
                        .page_matching(&q, Default::default(), &settings, &filter)
                        .unwrap();
                    let listed = store.page_view(&q, &settings).unwrap();
                    assert!(matched.items.len() <= 20 && listed.items.len() <= 20);
                    pages += 1;
                }
                pages
            })
        })
        .collect();

    let (mut reopens, mut written) = (0, Vec::new());
    for batch in 0..30 {
        let orders: Vec<Order> = (0..20)
            .map(|n| order(&format!("{}", 1000 + batch * 20 + n), ["uk", "de"][n % 2]))
            .collect();
        match batch % 3 {
            // A bulk import reopens by itself when due.
            0 => {
                store.import_orders(&orders).unwrap();
                assert!(store.written_since_open() < config.reopen_after_bytes);
            }
            _ => {
                put_orders(&store, &orders);
                reopens += usize::from(store.reopen_if_due().unwrap().is_some());
            }
        }
        written.extend(orders);
    }
    stop.store(true, Ordering::Relaxed);
    for reader in readers {
        assert!(reader.join().unwrap() > 0, "the reader read pages");
    }
    assert!(
        reopens >= 5,
        "the writes reopened the store {reopens} times"
    );

    let check = |store: &Store| {
        let listed = store.page_view(&every_order(0, 1000), &|_| Default::default());
        assert_eq!(listed.unwrap().items.len(), written.len());
        for o in &written {
            assert_eq!(store.order(&o.id).unwrap().as_ref(), Some(o));
        }
    };
    check(&store);
    drop(Arc::into_inner(store).unwrap()); // no close: as if the process died
    let store = Store::open_with(&config).unwrap();
    assert_eq!(store.open_report().integrity.depth, CheckDepth::Full);
    assert!(store.open_report().integrity.is_clean());
    check(&store);
}
