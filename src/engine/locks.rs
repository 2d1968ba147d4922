//! Per-order serialisation. Pollers and job runners update the same orders; each
//! read-modify-write of an order happens under its lock, so no update is lost. Locks are
//! striped (a fixed array indexed by a hash of the order id) and taken in stripe order when
//! several are needed, so two tasks can never deadlock. HTTP calls never happen under a lock.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use tokio::sync::{Mutex, MutexGuard};

use crate::domain::ids::TiktokOrderId;

const STRIPES: usize = 256;

pub struct OrderLocks {
    stripes: Vec<Mutex<()>>,
}

impl Default for OrderLocks {
    fn default() -> Self {
        OrderLocks {
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
        }
    }
}

/// Held while an order (or a set of orders) is read, changed and written.
pub struct OrderGuard<'a> {
    _guards: Vec<MutexGuard<'a, ()>>,
}

impl OrderLocks {
    fn stripe(id: &TiktokOrderId) -> usize {
        let mut hasher = DefaultHasher::new();
        id.hash(&mut hasher);
        (hasher.finish() as usize) % STRIPES
    }

    pub async fn lock(&self, id: &TiktokOrderId) -> OrderGuard<'_> {
        self.lock_many(std::slice::from_ref(id)).await
    }

    /// Locks every order in `ids` (in stripe order, each stripe once).
    pub async fn lock_many(&self, ids: &[TiktokOrderId]) -> OrderGuard<'_> {
        let mut stripes: Vec<usize> = ids.iter().map(Self::stripe).collect();
        stripes.sort_unstable();
        stripes.dedup();
        let mut guards = Vec::with_capacity(stripes.len());
        for s in stripes {
            guards.push(self.stripes[s].lock().await);
        }
        OrderGuard { _guards: guards }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn overlapping_sets_in_any_order_do_not_deadlock() {
        let locks = Arc::new(OrderLocks::default());
        let ids: Vec<TiktokOrderId> = (0..64)
            .map(|i| TiktokOrderId::new(i.to_string()).unwrap())
            .collect();
        let mut tasks = Vec::new();
        for t in 0..8 {
            let locks = locks.clone();
            let mut mine = ids.clone();
            mine.rotate_left(t * 7);
            tasks.push(tokio::spawn(async move {
                for _ in 0..50 {
                    let _g = locks.lock_many(&mine[..20]).await;
                    tokio::task::yield_now().await;
                }
            }));
        }
        let all = futures::future::join_all(tasks);
        tokio::time::timeout(std::time::Duration::from_secs(10), all)
            .await
            .expect("no deadlock");
    }
}
