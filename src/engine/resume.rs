//! Stuck work resumes by itself once its cause is gone. A stuck flow names what it waits on
//! ([`StuckCause`], kept beside the flow); the engine re-checks each cause of a link, never
//! each order, after every poll of that link:
//! - a missing SKU is looked up once per re-check however many orders wait on it (all due SKUs
//!   of the store in one `lookup_skus`), no sooner than its [`CauseCheck`] allows: from
//!   `retry_initial` doubling up to `retry_max`;
//! - refused credentials and outages end when that poll reached the platform: news, so at once;
//! - an unmapped carrier ends when the link's `carrier_map` changes for it (`settings_news`).
//!
//! Flows waiting on a gone cause are retried as a person's retry does (`reopen_stuck`: the same
//! stuck job made ready again, in one commit with the order), so each write still happens once;
//! the order's timeline says why. Causes only a person can remove are never re-checked.
//!
//! The check schedule lives in memory: after a restart each cause is first checked again
//! `retry_initial` after the first poll, which costs one lookup per cause.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use crate::domain::audit::{AuditEntry, AuditOutcome};
use crate::domain::cause::{CauseCheck, StuckCause};
use crate::domain::ids::{LinkId, ShopId, StorefrontId, TiktokOrderId};
use crate::domain::order::Flow;
use crate::domain::platform::Platform;
use crate::domain::rules::import::SkuMatch;
use crate::domain::rules::tracking::mapped_carrier;
use crate::domain::settings::LinkSettings;
use crate::platforms::ErrorClass;
use crate::store::{Change, StoreError};

use super::activity::Level;
use super::execute::Failure;
use super::{Engine, LinkRuntime, OperationError, Outcome};

/// When each waiting cause of each link is next checked.
#[derive(Default)]
pub(crate) struct CauseSchedule(Mutex<HashMap<(LinkId, StuckCause), CauseCheck>>);

/// Which platforms the poll that just ended reached without an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PollNews {
    pub tiktok: bool,
    pub store: bool,
}

/// The stuck flows of one link, by what they wait on.
pub type Waiting = BTreeMap<StuckCause, Vec<(TiktokOrderId, Flow)>>;

/// What a failed job waits on, should it end stuck: transient errors only end a run stuck once
/// retries ran out, which makes them an outage of that platform.
pub(super) fn cause_of(link: &LinkRuntime, failure: &Failure) -> StuckCause {
    cause_on(&link.shop, &link.storefront_name, failure)
}

fn cause_on(shop: &ShopId, store: &StorefrontId, failure: &Failure) -> StuckCause {
    match failure {
        Failure::Blocked(blocked) => blocked.cause.clone(),
        Failure::Stuck(_) | Failure::Store(_) => StuckCause::Person,
        Failure::Platform(e) => match (&e.class, e.platform) {
            (ErrorClass::RefreshCredentials, Platform::TiktokShop) => {
                StuckCause::ShopCredentials { shop: shop.clone() }
            }
            (ErrorClass::RefreshCredentials, _) => StuckCause::StoreCredentials {
                store: store.clone(),
            },
            (ErrorClass::RetryLater { .. } | ErrorClass::Ambiguous, platform) => {
                StuckCause::Outage { platform }
            }
            (ErrorClass::Permanent, _) => StuckCause::Person,
        },
    }
}

impl Engine {
    /// The stuck flows of `link`, grouped by what they wait on (a person, for flows stuck
    /// before causes were kept).
    pub fn waiting_on(&self, link: &LinkId) -> Result<Waiting, StoreError> {
        let mut waiting = Waiting::new();
        for (cause, order, flow) in self.store.stuck_flows(link)? {
            waiting.entry(cause).or_default().push((order, flow));
        }
        Ok(waiting)
    }

    /// After a poll of `link`: retries what waits on causes that poll shows gone, and looks up
    /// the missing SKUs whose check is due.
    pub(super) async fn recheck_causes(&self, link: &LinkRuntime, news: PollNews) {
        let waiting = match self.waiting_on(&link.id) {
            Ok(waiting) => waiting,
            Err(e) => {
                self.recheck_failed(link, format!("could not read what waits: {e}"));
                return;
            }
        };
        let now = self.now();
        let backoff = self.options.backoff;
        let mut gone = Vec::new();
        let mut due = Vec::new();
        {
            let mut schedule = self.causes.0.lock().unwrap_or_else(|e| e.into_inner());
            schedule.retain(|(l, cause), _| *l != link.id || waiting.contains_key(cause));
            for cause in waiting.keys() {
                match cause {
                    StuckCause::MissingSku { sku, .. } => {
                        let check = schedule
                            .entry((link.id.clone(), cause.clone()))
                            .or_insert_with(|| CauseCheck::first(now, &backoff));
                        if check.is_due(now) {
                            due.push((cause.clone(), sku.clone()));
                        }
                    }
                    cause if ended_by(cause, news) => gone.push(cause.clone()),
                    _ => {}
                }
            }
        }
        gone.extend(self.look_up_missing(link, due).await);
        for cause in gone {
            if let Err(e) = self.resume_cause(&link.id, &cause, None).await {
                self.recheck_failed(link, format!("could not resume ({}): {e}", cause.gone()));
            }
        }
    }

    /// One lookup of every due SKU; answers the causes found gone, and reschedules the others.
    async fn look_up_missing(
        &self,
        link: &LinkRuntime,
        due: Vec<(StuckCause, String)>,
    ) -> Vec<StuckCause> {
        if due.is_empty() {
            return Vec::new();
        }
        let skus: Vec<String> = due.iter().map(|(_, sku)| sku.clone()).collect();
        let answer = {
            let _slot = link.storefront_slots.acquire().await;
            link.storefront.lookup_skus(&skus).await
        };
        let found = match answer {
            Ok(found) => found,
            Err(e) => {
                self.recheck_failed(link, format!("could not look up missing SKUs: {e}"));
                HashMap::new()
            }
        };
        let now = self.now();
        let backoff = self.options.backoff;
        let mut schedule = self.causes.0.lock().unwrap_or_else(|e| e.into_inner());
        let mut gone = Vec::new();
        for (cause, sku) in due {
            match found.get(&sku) {
                // One variant, or several: either way the job decides again (an ambiguous SKU
                // then stays stuck for a person).
                Some(SkuMatch::One(_) | SkuMatch::Many(_)) => {
                    schedule.remove(&(link.id.clone(), cause.clone()));
                    gone.push(cause);
                }
                Some(SkuMatch::None) | None => {
                    if let Some(check) = schedule.get_mut(&(link.id.clone(), cause)) {
                        *check = check.still_there(now, &backoff);
                    }
                }
            }
        }
        gone
    }

    /// A link's settings changed: flows waiting on a carrier whose `carrier_map` entry changed
    /// are retried (the job decides whether the new mapping names a provider).
    pub(super) async fn settings_news(
        &self,
        link: &LinkId,
        before: &LinkSettings,
        after: &LinkSettings,
    ) -> Result<(), StoreError> {
        let entry =
            |settings: &LinkSettings, carrier: &str| mapped_carrier(settings, carrier).cloned();
        for cause in self.waiting_on(link)?.into_keys() {
            if let StuckCause::UnmappedCarrier { carrier } = &cause
                && entry(after, carrier).is_some()
                && entry(before, carrier) != entry(after, carrier)
            {
                self.resume_cause(link, &cause, None).await?;
            }
        }
        Ok(())
    }

    /// Retries every flow of `link` waiting on `cause`, through the job path (the stuck jobs
    /// made ready again), noting on each order why it resumed. A person's "retry all waiting on
    /// this cause" passes their audit entry, written with the first orders. Answers how many
    /// jobs were queued again.
    pub(crate) async fn resume_cause(
        &self,
        link: &LinkId,
        cause: &StuckCause,
        mut audit: Option<AuditEntry>,
    ) -> Result<usize, StoreError> {
        let mut ids: Vec<TiktokOrderId> = self
            .waiting_on(link)?
            .remove(cause)
            .unwrap_or_default()
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        ids.dedup();
        let why = match &audit {
            Some(entry) => format!(
                "retried by {} (all waiting on {})",
                entry.actor.user,
                cause.describe()
            ),
            None => format!("resumed by itself: {}", cause.gone()),
        };
        let mut resumed = 0;
        for chunk in ids.chunks(100) {
            let _guard = self.locks.lock_many(chunk).await;
            let now = self.now();
            let mut change = Change {
                audit: audit.take().into_iter().collect(),
                ..Change::default()
            };
            for id in chunk {
                let Some(mut order) = self.store.order(id)? else {
                    continue;
                };
                let flows: Vec<Flow> = Flow::ALL
                    .into_iter()
                    .filter(|f| order.flows.get(*f).stuck_on() == Some(cause))
                    .collect();
                let n = self.reopen_stuck(&mut order, &mut change, |job| {
                    flows.contains(&job.kind.flow())
                })?;
                if n > 0 {
                    order.note(now, None, why.clone());
                    change.orders.push(order);
                    resumed += n;
                }
            }
            self.commit(change).await?;
        }
        if resumed > 0 {
            self.activity.record(
                self.now(),
                Level::Info,
                Some(link),
                None,
                format!("{resumed} stuck job(s) queued again: {why}"),
            );
        }
        Ok(resumed)
    }

    /// A person's "retry all waiting on this cause": their audit entry is written with the
    /// first orders retried; nothing waiting is a refusal (audited by the caller). Orders that
    /// need a person share no cause (each has its own problem, some a retry acknowledges), so
    /// they are retried order by order, never all at once.
    pub(super) async fn retry_cause(
        &self,
        link: &LinkId,
        cause: &StuckCause,
        audit: AuditEntry,
    ) -> Result<Outcome, OperationError> {
        self.runtime(link)?;
        if !cause.resumes_by_itself() {
            return Err(OperationError::Invalid(
                "orders that need a person have a problem each: retry them order by order".into(),
            ));
        }
        let audit = AuditEntry {
            outcome: AuditOutcome::Ok {
                detail: Some(format!("all waiting on {}", cause.describe())),
            },
            ..audit
        };
        match self.resume_cause(link, cause, Some(audit)).await? {
            0 => Err(OperationError::Invalid(format!(
                "no stuck order of {link} waits on {}",
                cause.describe()
            ))),
            n => Ok(Outcome::Done {
                message: format!(
                    "{n} stuck job(s) queued again (all waiting on {})",
                    cause.describe()
                ),
            }),
        }
    }

    fn recheck_failed(&self, link: &LinkRuntime, message: String) {
        self.activity
            .record(self.now(), Level::Warn, Some(&link.id), None, message);
    }
}

/// Whether a poll that reached these platforms ends `cause`.
fn ended_by(cause: &StuckCause, news: PollNews) -> bool {
    match cause {
        StuckCause::ShopCredentials { .. }
        | StuckCause::Outage {
            platform: Platform::TiktokShop,
        } => news.tiktok,
        StuckCause::StoreCredentials { .. } | StuckCause::Outage { .. } => news.store,
        StuckCause::MissingSku { .. } | StuckCause::UnmappedCarrier { .. } | StuckCause::Person => {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::cause::Blocked;
    use crate::platforms::PlatformError;

    #[test]
    fn a_failure_names_what_its_flow_waits_on() {
        let shop = ShopId::new("gb-shop").unwrap();
        let store = StorefrontId::new("gb-shopify").unwrap();
        let platform = |platform, class| {
            Failure::Platform(PlatformError::new(platform, "op", class, "refused"))
        };
        let sku = StuckCause::MissingSku {
            store: store.clone(),
            sku: "SKU-LATE".into(),
        };
        let later = ErrorClass::RetryLater { after: None };
        let table = [
            (
                Failure::Blocked(Blocked::on(sku.clone(), "no variant")),
                sku,
            ),
            (Failure::Stuck("no address".into()), StuckCause::Person),
            (
                platform(Platform::TiktokShop, ErrorClass::RefreshCredentials),
                StuckCause::ShopCredentials { shop: shop.clone() },
            ),
            (
                platform(Platform::Shopify, ErrorClass::RefreshCredentials),
                StuckCause::StoreCredentials {
                    store: store.clone(),
                },
            ),
            (
                platform(Platform::Shopify, later),
                StuckCause::Outage {
                    platform: Platform::Shopify,
                },
            ),
            (
                platform(Platform::TiktokShop, ErrorClass::Ambiguous),
                StuckCause::Outage {
                    platform: Platform::TiktokShop,
                },
            ),
            (
                platform(Platform::Shopify, ErrorClass::Permanent),
                StuckCause::Person,
            ),
        ];
        for (failure, cause) in table {
            assert_eq!(cause_on(&shop, &store, &failure), cause, "{failure:?}");
        }
    }

    #[test]
    fn a_poll_ends_the_causes_of_the_platforms_it_reached() {
        let tiktok_only = PollNews {
            tiktok: true,
            store: false,
        };
        let store_only = PollNews {
            tiktok: false,
            store: true,
        };
        let shop = StuckCause::ShopCredentials {
            shop: ShopId::new("gb-shop").unwrap(),
        };
        let store = StuckCause::StoreCredentials {
            store: StorefrontId::new("gb-shopify").unwrap(),
        };
        let tiktok_down = StuckCause::Outage {
            platform: Platform::TiktokShop,
        };
        let shopify_down = StuckCause::Outage {
            platform: Platform::Shopify,
        };
        for (cause, by_tiktok, by_store) in [
            (&shop, true, false),
            (&tiktok_down, true, false),
            (&store, false, true),
            (&shopify_down, false, true),
            (&StuckCause::Person, false, false),
        ] {
            assert_eq!(ended_by(cause, tiktok_only), by_tiktok, "{cause:?}");
            assert_eq!(ended_by(cause, store_only), by_store, "{cause:?}");
        }
    }
}
