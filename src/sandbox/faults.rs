//! Fault injection for the simulated platforms: per endpoint, on demand, a fixed number of
//! times or with a probability (the demo's "living" faults). Handlers ask [`Faults::take`]
//! before doing their work and act the fault out in their platform's own wire format.

use std::sync::Mutex;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// Answer normally after this delay.
    Latency(Duration),
    /// The platform's rate-limit answer (TikTok HTTP 429 / `36009002`, Shopify `THROTTLED`).
    RateLimited,
    /// HTTP 500 without applying anything.
    ServerError,
    /// Never answer (the client's timeout fires); nothing is applied.
    Timeout,
    /// HTTP 200 with a body that is not valid JSON.
    MalformedJson,
    /// Apply the write, then drop the connection without answering.
    DropAfterWrite,
}

#[derive(Debug, Clone)]
struct Rule {
    endpoint: String,
    kind: FaultKind,
    remaining: Option<u32>,
    probability: f64,
}

/// The faults armed on one simulated platform.
#[derive(Debug)]
pub struct Faults {
    rules: Mutex<Vec<Rule>>,
    rng: Mutex<ChaCha8Rng>,
}

impl Default for Faults {
    fn default() -> Self {
        Faults::new(0)
    }
}

impl Faults {
    pub fn new(seed: u64) -> Self {
        Faults {
            rules: Mutex::new(Vec::new()),
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(seed)),
        }
    }

    /// Arms `kind` for the next `times` calls of `endpoint` (`"*"` matches every endpoint).
    pub fn inject(&self, endpoint: &str, kind: FaultKind, times: u32) {
        self.push(Rule {
            endpoint: endpoint.to_string(),
            kind,
            remaining: Some(times),
            probability: 1.0,
        });
    }

    /// Arms `kind` on every call of `endpoint` with the given probability, until cleared.
    pub fn sometimes(&self, endpoint: &str, kind: FaultKind, probability: f64) {
        self.push(Rule {
            endpoint: endpoint.to_string(),
            kind,
            remaining: None,
            probability: probability.clamp(0.0, 1.0),
        });
    }

    pub fn clear(&self) {
        self.rules.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    fn push(&self, rule: Rule) {
        self.rules
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(rule);
    }

    /// The fault to act out for this call of `endpoint`, if any (first matching rule wins).
    pub fn take(&self, endpoint: &str) -> Option<FaultKind> {
        let mut rules = self.rules.lock().unwrap_or_else(|e| e.into_inner());
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        let index = rules.iter().position(|r| {
            (r.endpoint == endpoint || r.endpoint == "*")
                && r.remaining != Some(0)
                && (r.probability >= 1.0 || rng.random_bool(r.probability))
        })?;
        let rule = &mut rules[index];
        let kind = rule.kind;
        if let Some(n) = rule.remaining.as_mut() {
            *n -= 1;
            if *n == 0 {
                rules.remove(index);
            }
        }
        Some(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_faults_fire_exactly_that_often() {
        let f = Faults::new(1);
        f.inject("orderCreate", FaultKind::ServerError, 2);
        assert_eq!(f.take("orderCreate"), Some(FaultKind::ServerError));
        assert_eq!(f.take("search_orders"), None);
        assert_eq!(f.take("orderCreate"), Some(FaultKind::ServerError));
        assert_eq!(f.take("orderCreate"), None);
    }

    #[test]
    fn wildcard_and_probability() {
        let f = Faults::new(7);
        f.sometimes("*", FaultKind::RateLimited, 0.5);
        let hits = (0..1000).filter(|_| f.take("anything").is_some()).count();
        assert!((400..600).contains(&hits), "{hits}");
        f.clear();
        assert_eq!(f.take("anything"), None);
    }
}
