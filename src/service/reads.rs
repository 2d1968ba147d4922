//! How a binding (socket or in-process) has a request answered: [`Service::answer`]. Reads run
//! on tokio's blocking pool, never on the async workers that read sockets and answer everyone
//! else, and their pages are cut to fit a message (`pages`). Reads that walk a whole view or
//! log (a filter, a re-sort, `since`) are also capped in flight: [`SCANS_PER_PEER`] per uid and
//! [`SCANS_IN_FLIGHT`] in all, so one client's heavy reads wait for each other instead of
//! taking every thread, and a plain page (what a console shows first) never waits behind them.
//! Mutations are answered as they are: they mostly wait on the engine.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::api::{Request, Response, ServiceError};
use super::core::Service;
use super::pages;
use crate::domain::audit::Actor;

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
}

impl Default for ReadGate {
    fn default() -> Self {
        ReadGate {
            all: Arc::new(Semaphore::new(SCANS_IN_FLIGHT)),
            peers: Mutex::default(),
        }
    }
}

impl ReadGate {
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
        let _slots = match scans(&request) {
            true => Some(self.limits.reads.enter(caller.uid).await?),
            false => None,
        };
        let (service, caller) = (self.clone(), caller.clone());
        let runtime = tokio::runtime::Handle::current();
        // A read awaits nothing but the store, so the blocking thread drives it to the end.
        let answered = tokio::task::spawn_blocking(move || {
            runtime
                .block_on(service.handle(&caller, request))
                .map(pages::fit)
        })
        .await;
        answered.unwrap_or_else(|e| Err(ServiceError::internal(format!("the read failed: {e}"))))
    }
}

/// Whether `request` walks a whole view or log rather than reading one page of an index.
fn scans(request: &Request) -> bool {
    let filtered =
        |filter: &Option<String>| filter.as_deref().is_some_and(|f| !f.trim().is_empty());
    match request {
        // A sorted order list is a range of an index, as its own order is.
        Request::Orders(q) | Request::OrderCount(q) => filtered(&q.filter),
        Request::Cancellations(q) => filtered(&q.filter),
        Request::Audit(q) | Request::Activity(q) => filtered(&q.filter) || q.since.is_some(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::triage::OrderView;
    use crate::service::api::{OrderColumn, OrderQuery, SortDir};

    #[test]
    fn filtered_lists_scan_plain_and_sorted_pages_do_not() {
        let plain = OrderQuery::first_page(OrderView::Pending, 50);
        assert!(!scans(&Request::Orders(plain.clone())));
        assert!(!scans(&Request::Orders(OrderQuery {
            filter: Some("  ".into()),
            ..plain.clone()
        })));
        assert!(scans(&Request::Orders(OrderQuery {
            filter: Some("jumper".into()),
            ..plain.clone()
        })));
        assert!(!scans(&Request::Orders(OrderQuery {
            sort: OrderColumn::Buyer,
            dir: SortDir::Desc,
            ..plain
        })));
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
}
