//! Secondary indexes as pure functions of the records they index. The write path, the
//! integrity check and the rebuild all derive entries here, so they cannot disagree about
//! what an index should hold.
//!
//! | index                  | of              | key                                        | when          |
//! |------------------------|-----------------|--------------------------------------------|---------------|
//! | `idx_views`            | orders          | view, scope, `views_of` sort key, order id | each view, global + per link |
//! | `idx_order_text`       | orders          | order id (value: `listing::search_text`, with the order's Orders view sort key and link), stored in blocks (`blocks.rs`) | always |
//! | `idx_order_sort`       | orders          | view, column, `sort_value`, newest first, order id; stored in blocks (`blocks.rs`) | each view × `OrderSort::indexed_in` it |
//! | `idx_cancellations`    | cancellations   | scope, `cancellation_sort_key`, cancel key | always, global + per link |
//! | `idx_cancellations_order` | cancellations | order id, cancel key                  | always        |
//! | `idx_jobs_due`         | jobs            | `run_after` (µs), job id                   | `Ready` only  |
//! | `idx_jobs_due_link`    | jobs            | link, `run_after` (µs), job id             | `Ready` only  |
//! | `idx_jobs_order`       | jobs            | order id, job id                           | always        |
//! | `idx_jobs_running`     | jobs            | job id                                     | `Running` only|
//! | `idx_requests_pending` | requests        | request id                                 | `Pending` only|
//! | `idx_stuck_causes`     | orders          | link, what the flow waits on (`StuckCause` as JSON), order id, flow | each stuck flow |
//!
//! Beside them `idx_view_counts` keeps each view's number of `idx_views` entries (key: view and
//! scope), adjusted by the same transaction, so counts and first pages do not walk the range;
//! and `idx_rank_counts` the entries of each list's buckets (`rank.rs`), so deep pages do not.

use super::codec::{self, index_marker};
use super::keys;
use super::{StoreError, TreeId};
use crate::domain::cancellation::Cancellation;
use crate::domain::job::{Job, JobState};
use crate::domain::listing::search_text;
use crate::domain::order::{Flow, Order};
use crate::domain::order_sort::{OrderSort, sort_value, time_value};
use crate::domain::request::ResyncRequest;
use crate::domain::triage::{OrderView, cancellation_sort_key, views_of};

/// One index entry a record implies.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Entry {
    pub tree: TreeId,
    pub key: Vec<u8>,
    pub value: Vec<u8>,
}

/// The primary trees that have indexes, each with the index trees derived from it.
pub const INDEXED: [(TreeId, &[TreeId]); 4] = [
    (
        TreeId::Orders,
        &[
            TreeId::IdxViews,
            TreeId::IdxOrderText,
            TreeId::IdxOrderSort,
            TreeId::IdxStuckCauses,
        ],
    ),
    (
        TreeId::Cancellations,
        &[TreeId::IdxCancellations, TreeId::IdxCancellationsOrder],
    ),
    (
        TreeId::Jobs,
        &[
            TreeId::IdxJobsDue,
            TreeId::IdxJobsDueLink,
            TreeId::IdxJobsOrder,
            TreeId::IdxJobsRunning,
        ],
    ),
    (TreeId::Requests, &[TreeId::IdxRequestsPending]),
];

/// The primary tree an index tree is derived from.
pub fn owner(index: TreeId) -> Option<TreeId> {
    INDEXED
        .iter()
        .find(|(_, indexes)| indexes.contains(&index))
        .map(|(primary, _)| *primary)
}

pub fn order_entries(order: &Order) -> Vec<Entry> {
    let value = codec::view_value(order.paid_or_created(), order.link.as_str());
    let views = views_of(order);
    // Every order is in the Orders view: its places there ride with its text (`OrderText`).
    let in_all = views.iter().find(|(view, _)| *view == OrderView::All);
    let time = |column| time_value(order, column).unwrap_or(i64::MAX);
    let places = codec::OrderPlaces {
        sort: in_all.map_or(0, |(_, sort)| *sort),
        ship_by: time(OrderSort::ShipBy),
        paid: time(OrderSort::Paid),
    };
    let lists: Vec<_> = views.iter().map(|(view, _)| *view).collect();
    let mut entries: Vec<Entry> = views
        .into_iter()
        .flat_map(|(view, sort)| {
            [None, Some(&order.link)].map(|scope| Entry {
                tree: TreeId::IdxViews,
                key: keys::view_key(view, scope, sort, &order.id),
                value: value.clone(),
            })
        })
        .collect();
    entries.push(Entry {
        tree: TreeId::IdxOrderText,
        key: order.id.as_str().as_bytes().to_vec(),
        value: codec::text_value(&codec::OrderText {
            places,
            link: order.link.as_str().as_bytes(),
            text: search_text(order).as_bytes(),
        }),
    });
    for flow in Flow::ALL {
        if let Some(cause) = order.flows.get(flow).stuck_on() {
            entries.push(Entry {
                tree: TreeId::IdxStuckCauses,
                key: keys::stuck_cause_key(&order.link, cause, &order.id, flow),
                value: index_marker(),
            });
        }
    }
    for view in lists {
        entries.extend(OrderSort::indexed_in(view).map(|column| Entry {
            tree: TreeId::IdxOrderSort,
            key: keys::sort_key(
                (view, column),
                &sort_value(order, column, view),
                order.tiktok.created_at,
                &order.id,
            ),
            value: value.clone(),
        }));
    }
    entries
}

pub fn cancellation_entries(c: &Cancellation) -> Vec<Entry> {
    let sort = cancellation_sort_key(c);
    let mut entries: Vec<Entry> = [None, Some(&c.link)]
        .map(|scope| Entry {
            tree: TreeId::IdxCancellations,
            key: keys::cancellation_index_key(scope, sort, &c.key),
            value: index_marker(),
        })
        .into();
    entries.push(Entry {
        tree: TreeId::IdxCancellationsOrder,
        key: keys::order_cancellation_key(&c.order_id, &c.key),
        value: index_marker(),
    });
    entries
}

pub fn job_entries(job: &Job) -> Vec<Entry> {
    let mut entries = vec![Entry {
        tree: TreeId::IdxJobsOrder,
        key: keys::order_job_key(&job.order, job.id),
        value: index_marker(),
    }];
    match job.state {
        JobState::Ready => entries.extend([
            Entry {
                tree: TreeId::IdxJobsDue,
                key: keys::due_key(job.run_after, job.id).to_vec(),
                value: index_marker(),
            },
            // Claims read each link's due jobs apart, so one link's backlog hides no other's.
            Entry {
                tree: TreeId::IdxJobsDueLink,
                key: keys::link_due_key(&job.link, job.run_after, job.id),
                value: index_marker(),
            },
        ]),
        JobState::Running { .. } => entries.push(Entry {
            tree: TreeId::IdxJobsRunning,
            key: keys::job_key(job.id).to_vec(),
            value: index_marker(),
        }),
        JobState::Done { .. } | JobState::Stuck { .. } => {}
    }
    entries
}

pub fn request_entries(request: &ResyncRequest) -> Vec<Entry> {
    if request.is_pending() {
        vec![Entry {
            tree: TreeId::IdxRequestsPending,
            key: keys::request_key(request.id).to_vec(),
            value: index_marker(),
        }]
    } else {
        Vec::new()
    }
}

/// A stored record of an indexed tree, decoded: the key it should be stored under and the
/// index entries it implies.
pub struct Derived {
    pub own_key: Vec<u8>,
    pub entries: Vec<Entry>,
}

/// Decodes a record of an indexed primary tree and derives its index entries.
pub fn derive(tree: TreeId, key: &[u8], bytes: &[u8]) -> Result<Derived, StoreError> {
    let name = tree.name();
    Ok(match tree {
        TreeId::Orders => {
            let order: Order = codec::decode(name, key, bytes)?;
            Derived {
                own_key: order.id.as_str().as_bytes().to_vec(),
                entries: order_entries(&order),
            }
        }
        TreeId::Cancellations => {
            let c: Cancellation = codec::decode(name, key, bytes)?;
            Derived {
                own_key: keys::cancellation_key(&c.key),
                entries: cancellation_entries(&c),
            }
        }
        TreeId::Jobs => {
            let job: Job = codec::decode(name, key, bytes)?;
            Derived {
                own_key: keys::job_key(job.id).to_vec(),
                entries: job_entries(&job),
            }
        }
        TreeId::Requests => {
            let request: ResyncRequest = codec::decode(name, key, bytes)?;
            Derived {
                own_key: keys::request_key(request.id).to_vec(),
                entries: request_entries(&request),
            }
        }
        _ => {
            return Err(codec::corrupt(name, key, "this tree has no indexes"));
        }
    })
}

/// The primary key an index key points at, or `None` if the key does not parse.
pub fn primary_key_of(index: TreeId, key: &[u8]) -> Option<Vec<u8>> {
    match index {
        TreeId::IdxViews => keys::parse_view_key(key).map(|k| k.order.to_vec()),
        TreeId::IdxOrderText if !key.is_empty() => Some(key.to_vec()),
        TreeId::IdxOrderSort => keys::order_of_sort_key(key).map(<[u8]>::to_vec),
        TreeId::IdxCancellations => keys::cancellation_of_index_key(key).map(<[u8]>::to_vec),
        TreeId::IdxCancellationsOrder => keys::cancellation_of_order_key(key).map(<[u8]>::to_vec),
        TreeId::IdxJobsDue if key.len() == 16 => Some(key[8..].to_vec()),
        TreeId::IdxJobsDueLink => keys::link_of_due_key(key).map(|_| key[key.len() - 8..].to_vec()),
        TreeId::IdxJobsOrder if key.len() > 9 => Some(key[key.len() - 8..].to_vec()),
        TreeId::IdxJobsRunning | TreeId::IdxRequestsPending if key.len() == 8 => Some(key.to_vec()),
        TreeId::IdxStuckCauses => keys::order_of_stuck_cause_key(key).map(<[u8]>::to_vec),
        _ => None,
    }
}

/// Checks an index value's encoding (the cheap, per-entry part of the integrity check).
pub fn check_value(index: TreeId, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
    match index {
        TreeId::IdxOrderText => codec::parse_text_value(index.name(), key, value).map(drop),
        TreeId::IdxViews | TreeId::IdxOrderSort => {
            codec::parse_view_value(index.name(), key, value).map(drop)
        }
        _ => codec::check_marker(index.name(), key, value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::clock::from_unix;
    use crate::domain::ids::{JobId, LinkId, TiktokOrderId};
    use crate::domain::job::JobKind;
    use crate::domain::rules::fixtures;

    #[test]
    fn every_index_entry_points_back_at_its_record() {
        let order = fixtures::paid();
        let mut job = Job::new(
            JobId(7),
            order.id.clone(),
            order.link.clone(),
            JobKind::Import,
            from_unix(5),
        );
        let bytes = codec::encode("orders", b"x", &order).unwrap();
        let derived = derive(TreeId::Orders, b"x", &bytes).unwrap();
        assert_eq!(derived.own_key, order.id.as_str().as_bytes());
        // paid, not imported: All, Pending, MissingTracking, each global and per link; its
        // text; each list by its columns (the store side on Missing tracking only)
        assert_eq!(derived.entries.len(), 7 + 10 + 10 + 11);
        for tree_entries in [derived.entries, job_entries(&job)] {
            for e in tree_entries {
                let owner = owner(e.tree).unwrap();
                let primary = primary_key_of(e.tree, &e.key).unwrap();
                let expected = match owner {
                    TreeId::Orders => order.id.as_str().as_bytes().to_vec(),
                    _ => keys::job_key(job.id).to_vec(),
                };
                assert_eq!(primary, expected, "{:?}", e.tree);
                check_value(e.tree, &e.key, &e.value).unwrap();
            }
        }
        job.state = JobState::Running {
            since: from_unix(6),
        };
        let trees: Vec<_> = job_entries(&job).into_iter().map(|e| e.tree).collect();
        assert_eq!(trees, [TreeId::IdxJobsOrder, TreeId::IdxJobsRunning]);
        job.state = JobState::Done { at: from_unix(7) };
        assert_eq!(job_entries(&job).len(), 1);
    }

    #[test]
    fn view_entries_follow_views_of_in_both_scopes() {
        let mut order = fixtures::paid();
        order.id = TiktokOrderId::new("99").unwrap();
        order.link = LinkId::new("de").unwrap();
        let entries = order_entries(&order);
        for (view, sort) in views_of(&order) {
            for scope in [None, Some(&order.link)] {
                let key = keys::view_key(view, scope, sort, &order.id);
                assert!(entries.iter().any(|e| e.key == key), "{view:?} {scope:?}");
            }
        }
        assert!(
            !entries
                .iter()
                .filter(|e| e.tree == TreeId::IdxViews)
                .any(|e| keys::parse_view_key(&e.key).unwrap().view == OrderView::Stuck)
        );
        let text: Vec<_> = entries
            .iter()
            .filter(|e| e.tree == TreeId::IdxOrderText)
            .collect();
        assert_eq!(text.len(), 1);
        assert_eq!(text[0].key, b"99");
    }

    #[test]
    fn unindexed_trees_and_bad_keys_are_refused() {
        assert!(derive(TreeId::Links, b"k", b"\x01{}").is_err());
        assert_eq!(primary_key_of(TreeId::IdxJobsDue, b"short"), None);
        assert_eq!(primary_key_of(TreeId::IdxViews, &[1, 0, 1]), None);
        assert_eq!(owner(TreeId::Audit), None);
    }
}
