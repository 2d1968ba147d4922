//! The job runner: claims due jobs (marking them `Running`) fairly across links — a link at its
//! cap of jobs in flight is passed over so one busy link cannot starve the others — executes them
//! concurrently (each platform account's semaphore bounds its calls in flight) and hands each
//! outcome to `outcome.rs`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::domain::ids::LinkId;
use crate::domain::job::{Job, JobState};
use crate::store::{Change, StoreError};

use super::activity::Level;
use super::{Engine, LinkRuntime};
use crate::domain::outcome::JobEnd;

/// How long running jobs may take to finish when the engine stops; the rest are released at
/// the next start (and read back before they write again).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RunReport {
    pub ran: usize,
    pub done: usize,
    pub retrying: usize,
    pub stuck: usize,
}

impl Engine {
    /// Runs jobs until `stop`. With `idle_horizon`, returns as soon as nothing is running and no
    /// job is due within that horizon (`sync --once`).
    pub async fn run_jobs(
        self: &Arc<Self>,
        stop: CancellationToken,
        idle_horizon: Option<Duration>,
    ) -> RunReport {
        let mut report = RunReport::default();
        let mut tasks: JoinSet<JobEnd> = JoinSet::new();
        let mut running = InFlight::default();
        let capacity = self.options.batch.max(1);
        loop {
            if !stop.is_cancelled() && tasks.len() < capacity {
                match self.claim(capacity - tasks.len(), &running).await {
                    Ok(jobs) => {
                        for (link, job) in jobs {
                            let engine = self.clone();
                            let id = link.id.clone();
                            let task = tasks.spawn(async move { engine.run_one(&link, job).await });
                            running.start(task.id(), id);
                        }
                    }
                    Err(e) => {
                        self.activity.record(
                            self.now(),
                            Level::Error,
                            None,
                            None,
                            format!("could not claim jobs: {e}"),
                        );
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
            if tasks.is_empty() {
                if stop.is_cancelled() {
                    break;
                }
                let wait = match self.next_due_in() {
                    Ok(Some(wait)) => wait,
                    Ok(None) => Duration::from_secs(3600),
                    Err(_) => Duration::from_secs(1),
                };
                if let Some(horizon) = idle_horizon
                    && wait > horizon
                {
                    break;
                }
                tokio::select! {
                    _ = stop.cancelled() => {}
                    _ = self.jobs_written.notified() => {}
                    _ = tokio::time::sleep(wait.min(Duration::from_secs(1))) => {}
                }
                continue;
            }
            tokio::select! {
                Some(joined) = tasks.join_next_with_id() => {
                    // Take every job that finished meanwhile before claiming again: claims are
                    // flushed, so under load each claim then covers many free slots at once.
                    tally(&mut report, running.end(joined));
                    while let Some(joined) = tasks.try_join_next_with_id() {
                        tally(&mut report, running.end(joined));
                    }
                }
                _ = self.jobs_written.notified(), if tasks.len() < capacity => {}
                _ = tokio::time::sleep(Duration::from_millis(500)), if tasks.len() < capacity => {}
                _ = stop.cancelled() => {
                    let drain = async { while let Some(joined) = tasks.join_next_with_id().await { tally(&mut report, running.end(joined)) } };
                    if tokio::time::timeout(SHUTDOWN_GRACE, drain).await.is_err() {
                        tracing::warn!(left = tasks.len(), "jobs still running at shutdown are released for the next start");
                        tasks.abort_all();
                    }
                    break;
                }
            }
        }
        report
    }

    /// How long until the earliest ready job is due (zero if one is due now).
    fn next_due_in(&self) -> Result<Option<Duration>, StoreError> {
        let far = self.now() + chrono::Duration::days(3650);
        Ok(self.store.due_jobs(far, 1)?.first().map(|job| {
            (job.run_after - self.now())
                .to_std()
                .unwrap_or(Duration::ZERO)
        }))
    }

    /// Marks up to `limit` due jobs `Running`, shared across links: each link gets at most as
    /// many as its cap leaves room for, and free slots go round the links, fewest in flight
    /// first, so a backlog on one link never holds the others back. Jobs of links no longer in
    /// the config are parked as stuck. Two runners may be at work (the daemon's, and a
    /// `sync_once` an operator asked for), so reading the due jobs and marking them is one step:
    /// a job claimed twice would be run twice.
    async fn claim(
        &self,
        limit: usize,
        running: &InFlight,
    ) -> Result<Vec<(Arc<LinkRuntime>, Job)>, StoreError> {
        let _one_claim_at_a_time = self.claiming.lock().await;
        let now = self.now();
        let caps = self.links.iter().map(|l| (l, l.max_in_flight));
        let mut queues = Vec::new();
        for (link, room) in rooms(caps, |l| running.of(&l.id), limit) {
            let due = self.store.due_jobs_of_link(&link.id, now, room)?;
            queues.push(due.into_iter().map(|job| (link.clone(), job)).collect());
        }
        let mut change = Change::default();
        let mut claimed = round_robin(limit, queues);
        for (_, job) in &mut claimed {
            job.state = JobState::Running { since: now };
            change.jobs.push(job.clone());
        }
        for link in self.store.links_with_ready_jobs()? {
            if self.link(&link).is_none() {
                for mut job in self.store.due_jobs_of_link(&link, now, limit)? {
                    job.state = JobState::Stuck {
                        reason: format!("link {} is no longer in orderdeck.toml", job.link),
                    };
                    change.jobs.push(job);
                }
            }
        }
        if change.jobs.is_empty() {
            return Ok(Vec::new());
        }
        self.commit(change).await?;
        Ok(claimed)
    }

    async fn run_one(&self, link: &LinkRuntime, job: Job) -> JobEnd {
        let (outcome, seen) = self.execute_job(link, &job).await;
        // The client may have refreshed the TikTok token on the way.
        self.save_tokens_if_changed(link);
        match self.finish(link, job.clone(), outcome, seen).await {
            Ok(end) => {
                let outcome = match end {
                    JobEnd::Done => "done",
                    JobEnd::Retrying => "retrying",
                    JobEnd::Stuck => "stuck",
                };
                let queued = (self.now() - job.created_at).num_milliseconds();
                self.metrics
                    .job_ended(&job, outcome, queued as f64 / 1000.0);
                end
            }
            Err(e) => {
                // The job stays Running in the store and is released at the next start.
                self.activity.record(
                    self.now(),
                    Level::Error,
                    Some(&link.id),
                    Some(&job.order),
                    format!(
                        "could not record the result of {}: {e}",
                        job.kind.describe()
                    ),
                );
                JobEnd::Retrying
            }
        }
    }
}

/// Jobs in flight per link, by task.
#[derive(Default)]
struct InFlight {
    tasks: HashMap<tokio::task::Id, LinkId>,
    per_link: HashMap<LinkId, usize>,
}

impl InFlight {
    fn start(&mut self, task: tokio::task::Id, link: LinkId) {
        *self.per_link.entry(link.clone()).or_default() += 1;
        self.tasks.insert(task, link);
    }

    /// Forgets a finished task (also one that panicked), returning its result.
    fn end(
        &mut self,
        joined: Result<(tokio::task::Id, JobEnd), tokio::task::JoinError>,
    ) -> Result<JobEnd, tokio::task::JoinError> {
        let task = match &joined {
            Ok((id, _)) => *id,
            Err(e) => e.id(),
        };
        if let Some(link) = self.tasks.remove(&task)
            && let Some(n) = self.per_link.get_mut(&link)
        {
            *n = n.saturating_sub(1);
        }
        joined.map(|(_, end)| end)
    }

    fn of(&self, link: &LinkId) -> usize {
        self.per_link.get(link).copied().unwrap_or_default()
    }
}

/// How many jobs a claim may take of each link with room (cap less jobs in flight, at most
/// `limit`), fewest in flight first.
fn rooms<L>(
    caps: impl IntoIterator<Item = (L, usize)>,
    in_flight: impl Fn(&L) -> usize,
    limit: usize,
) -> Vec<(L, usize)> {
    let mut rooms: Vec<(L, usize)> = caps
        .into_iter()
        .map(|(link, cap)| {
            let room = cap.saturating_sub(in_flight(&link)).min(limit);
            (link, room)
        })
        .filter(|(_, room)| *room > 0)
        .collect();
    rooms.sort_by_key(|(link, _)| in_flight(link));
    rooms
}

/// Up to `slots` items taken one per queue in turn, each queue in its own order.
fn round_robin<T>(slots: usize, queues: Vec<Vec<T>>) -> Vec<T> {
    let mut queues: Vec<std::vec::IntoIter<T>> = queues.into_iter().map(Vec::into_iter).collect();
    let mut taken = Vec::new();
    while taken.len() < slots {
        let before = taken.len();
        for queue in &mut queues {
            if taken.len() == slots {
                break;
            }
            taken.extend(queue.next());
        }
        if taken.len() == before {
            break;
        }
    }
    taken
}

fn tally(report: &mut RunReport, joined: Result<JobEnd, tokio::task::JoinError>) {
    report.ran += 1;
    match joined {
        Ok(JobEnd::Done) => report.done += 1,
        Ok(JobEnd::Retrying) | Err(_) => report.retrying += 1,
        Ok(JobEnd::Stuck) => report.stuck += 1,
    }
}

impl Engine {
    /// The daemon's engine: one poll loop per link (on its interval; a failed poll is retried
    /// sooner, with backoff, and never skips its window) and the job runner, until `stop`.
    pub async fn run(self: Arc<Self>, stop: CancellationToken) {
        let mut pollers = JoinSet::new();
        for link in self.links.clone() {
            let (engine, hinted, until) = (self.clone(), link.clone(), stop.clone());
            pollers.spawn(async move { engine.follow_hints(hinted, until).await });
            let (engine, stop) = (self.clone(), stop.clone());
            pollers.spawn(async move {
                let mut failures = 0u32;
                loop {
                    let summary = tokio::select! {
                        _ = stop.cancelled() => break,
                        summary = engine.poll_link(&link) => summary,
                    };
                    failures = if summary.errors.is_empty() {
                        0
                    } else {
                        failures + 1
                    };
                    let wait = match failures {
                        0 => engine.poll_wait(&link),
                        n => link
                            .poll_interval
                            .min(Duration::from_secs(5u64 << n.min(6))),
                    };
                    tokio::select! {
                        _ = stop.cancelled() => break,
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
            });
        }
        pollers.spawn(self.clone().keep_store_snapshots(stop.clone()));
        self.run_jobs(stop, None).await;
        while pollers.join_next().await.is_some() {}
    }

    /// Reopens the store when enough was written since it last opened
    /// ([`crate::store::Store::reopen_if_due`]): sled then writes its recovery snapshot, and
    /// an open after a crash has little to replay. Reads and writes wait for a reopen (about
    /// 0.1 s at a million orders, once per 256 MB written). A store that cannot be opened again stops the daemon.
    async fn keep_store_snapshots(self: Arc<Self>, stop: CancellationToken) {
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(SNAPSHOT_CHECK) => {}
            }
            let store = self.store.clone();
            let line = match tokio::task::spawn_blocking(move || store.reopen_if_due()).await {
                Ok(Ok(None)) => continue,
                Ok(Ok(Some(took))) => {
                    tracing::info!(took = ?took, "store: reopened to write sled's snapshot");
                    continue;
                }
                Ok(Err(e)) => format!("the store could not be reopened: {e}; stopping"),
                Err(panic) => format!("reopening the store failed: {panic}; stopping"),
            };
            tracing::error!("{line}");
            self.activity
                .record(self.now(), Level::Error, None, None, line);
            stop.cancel();
            return;
        }
    }
}

/// How often the daemon looks whether the store is due a reopen.
const SNAPSHOT_CHECK: Duration = Duration::from_secs(10);

#[cfg(test)]
mod tests {
    use super::*;

    fn link(name: &str) -> LinkId {
        LinkId::new(name).unwrap()
    }

    fn names(rooms: Vec<(&LinkId, usize)>) -> Vec<(String, usize)> {
        rooms.into_iter().map(|(l, n)| (l.to_string(), n)).collect()
    }

    /// The daemon reopens its store once enough was written (sled's snapshot), and goes on.
    #[tokio::test(start_paused = true)]
    async fn the_daemon_reopens_its_store_once_enough_was_written() {
        use crate::domain::clock::FixedClock;
        use crate::domain::rules::fixtures::{paid, t};
        use crate::store::{Store, StoreConfig};

        let dir = tempfile::tempdir().unwrap();
        let config = StoreConfig {
            reopen_after_bytes: 16 * 1024,
            ..StoreConfig::new(dir.path().join("store"))
        };
        let store = Arc::new(Store::open_with(&config).unwrap());
        let options = super::super::EngineOptions::in_data_dir(dir.path());
        let engine = Engine::new(
            store.clone(),
            Arc::new(FixedClock::new(t(0))),
            Vec::new(),
            options,
        );
        let stop = CancellationToken::new();
        let snapshots = tokio::spawn(engine.clone().keep_store_snapshots(stop.clone()));

        let mut orders = Vec::new();
        while store.written_since_open() < config.reopen_after_bytes {
            let mut order = paid();
            order.id =
                crate::domain::ids::TiktokOrderId::new(format!("{}", 7000 + orders.len())).unwrap();
            store
                .apply(&Change {
                    orders: vec![order.clone()],
                    ..Change::default()
                })
                .unwrap();
            orders.push(order);
        }
        // The check comes every few seconds; the reopen itself runs on a thread of its own.
        for _ in 0..100 {
            tokio::time::sleep(SNAPSHOT_CHECK).await;
            if store.written_since_open() == 0 {
                break;
            }
        }
        assert_eq!(store.written_since_open(), 0, "the store was reopened");
        for order in &orders {
            assert_eq!(store.order(&order.id).unwrap().as_ref(), Some(order));
        }
        stop.cancel();
        snapshots.await.unwrap();
    }

    #[test]
    fn each_link_gets_its_room_fewest_in_flight_first() {
        let (a, b, c) = (link("a"), link("b"), link("c"));
        let running = InFlight {
            per_link: HashMap::from([(a.clone(), 3), (c.clone(), 4)]),
            ..InFlight::default()
        };
        let caps = [(&a, 4), (&b, 4), (&c, 4)];
        assert_eq!(
            names(rooms(caps, |l| running.of(l), 10)),
            [("b".to_string(), 4), ("a".to_string(), 1)]
        );
        // No link is offered more than the claim's limit.
        assert_eq!(
            names(rooms(caps, |l| running.of(l), 2)),
            [("b".to_string(), 2), ("a".to_string(), 1)]
        );
    }

    #[test]
    fn free_slots_go_round_the_links_so_a_backlog_holds_no_one_back() {
        let backlog: Vec<String> = (0..20).map(|n| format!("a{n}")).collect();
        let queues = vec![backlog, vec!["b0".into(), "b1".into()], vec!["c0".into()]];
        assert_eq!(
            round_robin(5, queues.clone()),
            ["a0", "b0", "c0", "a1", "b1"]
        );
        assert_eq!(round_robin(8, queues).len(), 8);
        let few = vec![vec!["a0"], vec![], vec!["c0"]];
        assert_eq!(round_robin(10, few), ["a0", "c0"]);
    }
}
