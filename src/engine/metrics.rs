//! What the engine counts for `/metrics`: job runs by kind and outcome, how long jobs take
//! from being queued to their end, and orders imported per link. Gauges of what is waiting
//! (queue depth, stuck) are read from the store at each scrape instead (`service/http.rs`).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::domain::job::Job;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    kind: &'static str,
    /// `done`, `retrying` or `stuck`.
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LinkLabel {
    link: String,
}

pub struct EngineMetrics {
    jobs: Family<JobLabels, Counter>,
    latency: Family<KindLabel, Histogram>,
    imported: Family<LinkLabel, Counter>,
}

impl Default for EngineMetrics {
    fn default() -> Self {
        EngineMetrics {
            jobs: Family::default(),
            latency: Family::new_with_constructor(|| {
                Histogram::new([0.1, 0.5, 1.0, 2.0, 5.0, 15.0, 60.0, 300.0, 3600.0])
            }),
            imported: Family::default(),
        }
    }
}

impl EngineMetrics {
    /// One run of `job` ended with `outcome`, `seconds` after the job was queued.
    pub(super) fn job_ended(&self, job: &Job, outcome: &'static str, seconds: f64) {
        let kind = job.kind.metric_name();
        self.jobs.get_or_create(&JobLabels { kind, outcome }).inc();
        if outcome == "done" {
            self.latency
                .get_or_create(&KindLabel { kind })
                .observe(seconds.max(0.0));
            if matches!(job.kind, crate::domain::job::JobKind::Import) {
                let link = job.link.to_string();
                self.imported.get_or_create(&LinkLabel { link }).inc();
            }
        }
    }

    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "orderdeck_jobs",
            "Job runs by kind and how they ended (retrying: will run again)",
            self.jobs.clone(),
        );
        registry.register(
            "orderdeck_job_seconds",
            "From a job being queued to its successful end",
            self.latency.clone(),
        );
        registry.register(
            "orderdeck_orders_imported",
            "Store orders created from TikTok orders",
            self.imported.clone(),
        );
    }
}
