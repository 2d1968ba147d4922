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
use crate::store::{Change, Pick, StoreError};

use super::activity::Level;
use super::{Engine, LinkRuntime};

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum JobEnd {
    Done,
    Retrying,
    Stuck,
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

    /// Marks up to `limit` due jobs `Running`, in due order but skipping links that already
    /// have as many jobs in flight as their accounts allow: otherwise a burst of one link's jobs
    /// would fill every slot and leave the other links idle behind it. Two runners may be at
    /// work (the daemon's, and a `sync_once` an operator asked for), so reading the due jobs and
    /// marking them is one step: a job claimed twice would be run twice.
    async fn claim(
        &self,
        limit: usize,
        running: &InFlight,
    ) -> Result<Vec<(Arc<LinkRuntime>, Job)>, StoreError> {
        let _one_claim_at_a_time = self.claiming.lock().await;
        let now = self.now();
        let caps = self.links.iter().map(|l| (l.id.clone(), l.max_in_flight));
        let mut picker = Picker::new(limit, running, caps);
        let due = self
            .store
            .pick_due_jobs(now, CLAIM_SCAN, |link| picker.consider(link))?;
        if due.is_empty() {
            return Ok(Vec::new());
        }
        let mut change = Change::default();
        let mut claimed: Vec<(Arc<LinkRuntime>, Job)> = Vec::new();
        for mut job in due {
            match self.link(&job.link).cloned() {
                Some(link) => {
                    job.state = JobState::Running { since: now };
                    change.jobs.push(job.clone());
                    claimed.push((link, job));
                }
                None => {
                    job.state = JobState::Stuck {
                        reason: format!("link {} is no longer in orderdeck.toml", job.link),
                    };
                    change.jobs.push(job);
                }
            }
        }
        self.store.apply_async(&change).await?;
        Ok(claimed)
    }

    async fn run_one(&self, link: &LinkRuntime, job: Job) -> JobEnd {
        let outcome = self.execute(link, &job).await;
        // The client may have refreshed the TikTok token on the way.
        self.save_tokens_if_changed(link);
        match self.finish(link, job.clone(), outcome).await {
            Ok(end) => end,
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

/// How many due jobs a claim looks through at most to fill its slots. Only their links are read
/// (from the due index), so looking far costs little; a backlog on one link at its cap does not
/// hide the jobs of the others behind it.
const CLAIM_SCAN: usize = 4096;

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

/// Decides, due job by due job, which to claim: at most `limit`, and never more of one link in
/// flight than its cap; once every link is at its cap, nothing more. Jobs of links no longer
/// configured are taken without using a slot, to be parked as stuck.
struct Picker {
    slots: usize,
    /// Each configured link's cap less its jobs in flight and those this claim took.
    room: HashMap<LinkId, usize>,
    /// How many links have room left.
    open: usize,
}

impl Picker {
    fn new(
        limit: usize,
        running: &InFlight,
        caps: impl IntoIterator<Item = (LinkId, usize)>,
    ) -> Self {
        let room: HashMap<LinkId, usize> = caps
            .into_iter()
            .map(|(link, cap)| {
                let left = cap.saturating_sub(running.of(&link));
                (link, left)
            })
            .collect();
        let open = room.values().filter(|left| **left > 0).count();
        Picker {
            slots: limit,
            room,
            open,
        }
    }

    fn consider(&mut self, link: &LinkId) -> Pick {
        let Some(left) = self.room.get_mut(link) else {
            return Pick::Take;
        };
        if self.slots == 0 || self.open == 0 {
            return Pick::Enough;
        }
        if *left == 0 {
            return Pick::Pass;
        }
        *left -= 1;
        if *left == 0 {
            self.open -= 1;
        }
        self.slots -= 1;
        Pick::Take
    }
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
                        0 => link.poll_interval,
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
        self.run_jobs(stop, None).await;
        while pollers.join_next().await.is_some() {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(name: &str) -> LinkId {
        LinkId::new(name).unwrap()
    }

    /// The links of the jobs a claim over `due` (links in due order) takes.
    fn pick(
        due: &[&LinkId],
        limit: usize,
        running: &InFlight,
        caps: &[(&LinkId, usize)],
    ) -> Vec<String> {
        let caps = caps.iter().map(|(link, cap)| ((*link).clone(), *cap));
        let mut picker = Picker::new(limit, running, caps);
        let mut taken = Vec::new();
        for link in due {
            match picker.consider(link) {
                Pick::Take => taken.push(link.to_string()),
                Pick::Pass => {}
                Pick::Enough => break,
            }
        }
        taken
    }

    #[test]
    fn one_links_backlog_leaves_room_for_the_others() {
        let (a, b) = (link("a"), link("b"));
        let mut due = vec![&a; 20];
        due.extend([&b, &b]);
        let picked = pick(&due, 8, &InFlight::default(), &[(&a, 4), (&b, 4)]);
        assert_eq!(picked, ["a", "a", "a", "a", "b", "b"]);
    }

    #[test]
    fn jobs_already_in_flight_count_against_the_cap_and_the_limit_holds() {
        let (a, b) = (link("a"), link("b"));
        let running = InFlight {
            per_link: HashMap::from([(a.clone(), 3)]),
            ..InFlight::default()
        };
        let due = [&a, &a, &b, &b, &b];
        let caps = [(&a, 4), (&b, 4)];
        assert_eq!(pick(&due, 10, &running, &caps), ["a", "b", "b", "b"]);
        assert_eq!(pick(&due, 2, &running, &caps), ["a", "b"]);
    }

    #[test]
    fn jobs_of_removed_links_are_taken_without_using_a_slot() {
        let (gone, a) = (link("gone"), link("a"));
        let due = [&gone, &a, &gone, &a];
        let picked = pick(&due, 1, &InFlight::default(), &[(&a, 4)]);
        assert_eq!(picked, ["gone", "a", "gone"]);
    }

    #[test]
    fn once_every_link_is_at_its_cap_the_claim_reads_no_further() {
        let (a, b) = (link("a"), link("b"));
        let running = InFlight {
            per_link: HashMap::from([(a.clone(), 2)]),
            ..InFlight::default()
        };
        let mut picker = Picker::new(10, &running, [(a.clone(), 2), (b.clone(), 1)]);
        assert_eq!(picker.consider(&a), Pick::Pass);
        assert_eq!(picker.consider(&b), Pick::Take);
        assert_eq!(picker.consider(&a), Pick::Enough);
    }
}
