//! How a binding (socket or in-process) has a request answered: [`Service::answer`]. Reads run
//! on tokio's blocking pool, never on the async workers that read sockets and answer everyone
//! else, and their pages are cut to fit a message (`pages`). Reads that walk a whole view or
//! log (a filter, a re-sort, `since`) are also capped in flight: [`SCANS_PER_PEER`] per uid and
//! [`SCANS_IN_FLIGHT`] in all, so one client's heavy reads wait for each other instead of
//! taking every thread, and a plain page (what a console shows first) never waits behind them.
//! A filtered count, the costliest of them (it decodes every order the filter may match), is
//! wanted only for a user's newest filter of its view: when the same uid asks that view with
//! another filter (its console's filter was typed on), an older count still waiting or running
//! stops and answers that it was replaced. Counts of the same filter all answer, and plain
//! pages (another console of the same user, or a filter cleared) replace nothing.
//! Mutations are answered as they are: they mostly wait on the engine.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::api::{OrderQuery, Request, Response, ServiceError};
use super::core::Service;
use super::pages;
use crate::domain::audit::Actor;
use crate::domain::triage::OrderView;

/// Scanning reads running at once, everyone together.
pub(crate) const SCANS_IN_FLIGHT: usize = 4;
/// Scanning reads running at once for one uid.
pub(crate) const SCANS_PER_PEER: usize = 2;

/// The permits scanning reads take.
#[derive(Debug)]
pub(crate) struct ReadGate {
    all: Arc<Semaphore>,
    /// One semaphore per uid that ever scanned (bounded by the host's accounts).
    peers: Mutex<HashMap<u32, Arc<Semaphore>>>,
    /// Per uid and view, the filter last asked and how often the counts of that view were
    /// replaced: a count is wanted while that number is what it was when the count arrived.
    lists: Mutex<HashMap<(u32, OrderView), ListAsked>>,
}

#[derive(Debug, Default)]
struct ListAsked {
    filter: Option<String>,
    replaced: Arc<AtomicU64>,
}

impl Default for ReadGate {
    fn default() -> Self {
        ReadGate {
            all: Arc::new(Semaphore::new(SCANS_IN_FLIGHT)),
            peers: Mutex::default(),
            lists: Mutex::default(),
        }
    }
}

/// A filtered count as it arrived: wanted until its view's counts are replaced.
struct CountTicket {
    replaced: Arc<AtomicU64>,
    mine: u64,
}

impl CountTicket {
    fn wanted(&self) -> bool {
        self.replaced.load(Ordering::Relaxed) == self.mine
    }
}

impl ReadGate {
    /// `uid` asks for `q`'s filtered list (a page, or its count when `count`): the counts of
    /// that view still waiting or running are replaced when the filter differs from the last
    /// one asked; a count gets its ticket.
    fn asked(&self, uid: u32, q: &OrderQuery, count: bool) -> Option<CountTicket> {
        let mut lists = self.lists.lock().unwrap_or_else(|e| e.into_inner());
        let list = lists.entry((uid, q.view)).or_default();
        let filter = q.filter.as_deref().map(str::trim).filter(|f| !f.is_empty());
        let changed = list.filter.as_deref() != filter;
        if changed {
            list.filter = filter.map(str::to_string);
            list.replaced.fetch_add(1, Ordering::Relaxed);
        }
        count.then(|| CountTicket {
            replaced: list.replaced.clone(),
            mine: list.replaced.load(Ordering::Relaxed),
        })
    }

    /// Waits for a scan slot of `uid` and then one of everyone's, in that order, so a uid
    /// waiting for its own slots holds none of the others'.
    async fn enter(&self, uid: u32) -> Result<[OwnedSemaphorePermit; 2], ServiceError> {
        let mine = self
            .peers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(uid)
            .or_insert_with(|| Arc::new(Semaphore::new(SCANS_PER_PEER)))
            .clone();
        let closed = |_| ServiceError::internal("the read slots were closed");
        let mine = mine.acquire_owned().await.map_err(closed)?;
        let any = self.all.clone().acquire_owned().await.map_err(closed)?;
        Ok([mine, any])
    }
}

impl Service {
    /// Answers `request` for `caller` as the module docs say.
    pub(crate) async fn answer(
        self: &Arc<Self>,
        caller: &Actor,
        request: Request,
    ) -> Result<Response, ServiceError> {
        if request.is_mutation() || matches!(request, Request::Hello { .. } | Request::Subscribe) {
            return self.handle(caller, request).await;
        }
        let count = match &request {
            Request::Orders(q) if request.scans() => self.limits.reads.asked(caller.uid, q, false),
            Request::OrderCount(q) if request.scans() => {
                self.limits.reads.asked(caller.uid, q, true)
            }
            _ => None,
        };
        let _slots = match request.scans() {
            true => Some(self.limits.reads.enter(caller.uid).await?),
            false => None,
        };
        if count.as_ref().is_some_and(|count| !count.wanted()) {
            return Err(ServiceError::invalid(super::core::REPLACED_COUNT));
        }
        let (service, caller) = (self.clone(), caller.clone());
        let runtime = tokio::runtime::Handle::current();
        // A read awaits nothing but the store, so the blocking thread drives it to the end.
        let answered = tokio::task::spawn_blocking(move || {
            let wanted = || count.as_ref().is_none_or(CountTicket::wanted);
            runtime
                .block_on(service.handle_while(&caller, request, &wanted))
                .map(pages::fit)
        })
        .await;
        answered.unwrap_or_else(|e| Err(ServiceError::internal(format!("the read failed: {e}"))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::api::{OrderColumn, SortDir};

    #[test]
    fn filtered_lists_scan_plain_and_sorted_pages_do_not() {
        let plain = OrderQuery::first_page(OrderView::Pending, 50);
        assert!(!Request::Orders(plain.clone()).scans());
        assert!(
            !Request::Orders(OrderQuery {
                filter: Some("  ".into()),
                ..plain.clone()
            })
            .scans()
        );
        assert!(
            Request::Orders(OrderQuery {
                filter: Some("jumper".into()),
                ..plain.clone()
            })
            .scans()
        );
        assert!(
            !Request::Orders(OrderQuery {
                sort: OrderColumn::Buyer,
                dir: SortDir::Desc,
                ..plain
            })
            .scans()
        );
    }

    #[tokio::test]
    async fn one_uid_holds_at_most_its_share_of_scan_slots() {
        let gate = ReadGate::default();
        let mut held = Vec::new();
        for _ in 0..SCANS_PER_PEER {
            held.push(gate.enter(1).await.unwrap());
        }
        // uid 1 is at its cap; uid 2 still gets a slot at once.
        let blocked = tokio::time::timeout(std::time::Duration::ZERO, gate.enter(1)).await;
        assert!(blocked.is_err(), "a third slot for uid 1");
        let other = gate.enter(2).await.unwrap();
        assert_eq!(
            gate.all.available_permits(),
            SCANS_IN_FLIGHT - SCANS_PER_PEER - 1
        );
        drop((held, other));
        assert_eq!(gate.all.available_permits(), SCANS_IN_FLIGHT);
    }

    #[test]
    fn a_count_is_replaced_by_its_users_next_filter_of_that_view_alone() {
        let gate = ReadGate::default();
        let filtered = |view, filter: &str| OrderQuery {
            filter: Some(filter.into()),
            ..OrderQuery::first_page(view, 50)
        };
        let jumper = filtered(OrderView::All, "jumper");
        gate.asked(1, &jumper, false);
        let first = gate.asked(1, &jumper, true).unwrap();
        let other_user = gate.asked(2, &jumper, true).unwrap();
        // Scrolling the same filtered list, or another view's list, leaves it wanted.
        gate.asked(1, &jumper, false);
        gate.asked(1, &filtered(OrderView::Pending, "jum"), false);
        assert!(first.wanted() && other_user.wanted());
        // The filter typed on: replaced.
        gate.asked(1, &filtered(OrderView::All, "jumpers"), false);
        assert!(!first.wanted() && other_user.wanted());
        // Counts of the same filter (a script's, in parallel) all answer.
        let again = gate.asked(2, &jumper, true).unwrap();
        assert!(other_user.wanted() && again.wanted());
    }
}
