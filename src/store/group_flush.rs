//! Group commit. Every write is flushed to disk before it is acknowledged, but an fsync costs
//! milliseconds on real disks, and the engine finishes many jobs at once. Writers that commit
//! while a flush is running wait for the next one, which covers them all: one fsync per group
//! instead of one per write, and still no acknowledgement before the data is on disk.
//!
//! Invariant: a writer takes its ticket only after its transaction committed, so a flush that
//! starts after reading the highest ticket covers every change holding a ticket up to it.

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Mutex;

#[derive(Default)]
pub(super) struct GroupFlush {
    issued: AtomicU64,
    /// The highest ticket a completed flush covers. Guarded by the mutex: writers queue on it
    /// (fairly), and each one holding it either finds its ticket covered or flushes for all.
    /// Nobody waits on a signal that might already have been sent, so nobody is left waiting.
    flushed: Mutex<u64>,
}

impl GroupFlush {
    /// Returns once a flush that started after this call has completed. `flush` performs one.
    pub(super) async fn wait<F, Fut, E>(&self, flush: F) -> Result<(), E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<(), E>>,
    {
        let ticket = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
        let mut flushed = self.flushed.lock().await;
        if *flushed >= ticket {
            return Ok(());
        }
        let covers = self.issued.load(Ordering::SeqCst);
        // On failure the next writer in the queue tries its own flush.
        flush().await?;
        *flushed = covers;
        Ok(())
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
        assert!(*group.flushed.lock().await >= 64, "every ticket is covered");
    }

    /// Writers arriving just as a flush ends must not wait for a flush nobody will run.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_writer_is_left_waiting_however_they_interleave() {
        let group = Arc::new(GroupFlush::default());
        let rounds = async {
            for _ in 0..500 {
                let writers: Vec<_> = (0..3)
                    .map(|_| {
                        let group = group.clone();
                        tokio::spawn(async move {
                            group
                                .wait(|| async {
                                    tokio::task::yield_now().await;
                                    Ok::<(), ()>(())
                                })
                                .await
                        })
                    })
                    .collect();
                for writer in writers {
                    writer.await.unwrap().unwrap();
                }
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(20), rounds)
            .await
            .expect("every writer was acknowledged");
    }

    #[tokio::test]
    async fn a_failed_flush_is_reported_to_its_writer() {
        let group = GroupFlush::default();
        let result = group.wait(|| async { Err::<(), _>("disk full") }).await;
        assert_eq!(result, Err("disk full"));
    }
}
