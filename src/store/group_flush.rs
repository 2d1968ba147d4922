//! Group commit. Every write is flushed to disk before it is acknowledged, but an fsync costs
//! milliseconds on real disks, and the engine finishes many jobs at once. Writers that commit
//! while a flush is running wait for the next one, which covers them all: one fsync per group
//! instead of one per write, and still no acknowledgement before the data is on disk.
//!
//! Invariant: a writer takes its ticket only after its transaction committed, so a flush that
//! starts after reading the highest ticket covers every change holding a ticket up to it.

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{Mutex, watch};

pub(super) struct GroupFlush {
    issued: AtomicU64,
    /// Held by the one writer currently flushing for everybody.
    flushing: Mutex<()>,
    flushed: watch::Sender<u64>,
}

impl Default for GroupFlush {
    fn default() -> Self {
        GroupFlush {
            issued: AtomicU64::new(0),
            flushing: Mutex::new(()),
            flushed: watch::channel(0).0,
        }
    }
}

impl GroupFlush {
    /// Returns once a flush that started after this call has completed. `flush` performs one.
    pub(super) async fn wait<F, Fut, E>(&self, flush: F) -> Result<(), E>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<(), E>>,
    {
        let ticket = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
        let mut flushed = self.flushed.subscribe();
        loop {
            if *flushed.borrow_and_update() >= ticket {
                return Ok(());
            }
            match self.flushing.try_lock() {
                Ok(_guard) => {
                    let covers = self.issued.load(Ordering::SeqCst);
                    flush().await?;
                    self.flushed.send_modify(|done| *done = (*done).max(covers));
                }
                // Someone else is flushing: wait for it (then check whether it covered us).
                Err(_) => {
                    let _ = flushed.changed().await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writers_share_flushes_and_each_waits_for_one() {
        let group = Arc::new(GroupFlush::default());
        let flushes = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..64 {
            let (group, flushes) = (group.clone(), flushes.clone());
            tasks.push(tokio::spawn(async move {
                group
                    .wait(|| {
                        let flushes = flushes.clone();
                        async move {
                            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                            flushes.fetch_add(1, Ordering::SeqCst);
                            Ok::<(), ()>(())
                        }
                    })
                    .await
            }));
        }
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        let n = flushes.load(Ordering::SeqCst);
        assert!(
            (1..64).contains(&n),
            "64 writers were covered by {n} flushes"
        );
        assert!(*group.flushed.borrow() >= 64, "every ticket is covered");
    }

    #[tokio::test]
    async fn a_failed_flush_is_reported_to_its_writer() {
        let group = GroupFlush::default();
        let result = group.wait(|| async { Err::<(), _>("disk full") }).await;
        assert_eq!(result, Err("disk full"));
    }
}
