//! Engine events for the Activity view: polls, finished and stuck jobs, token refreshes. Kept
//! in memory (the newest few thousand) rather than in the audit log, which records people's
//! actions; a daemon restart starts a fresh list.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::domain::clock::Timestamp;
use crate::domain::ids::{LinkId, TiktokOrderId};
use crate::domain::text;

const KEEP: usize = 5000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Info,
    Warn,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineEvent {
    pub seq: u64,
    pub at: Timestamp,
    pub level: Level,
    pub link: Option<LinkId>,
    pub order: Option<TiktokOrderId>,
    /// Sanitized.
    pub text: String,
}

#[derive(Default)]
pub struct Activity {
    events: Mutex<(u64, VecDeque<EngineEvent>)>,
}

impl Activity {
    pub fn record(
        &self,
        at: Timestamp,
        level: Level,
        link: Option<&LinkId>,
        order: Option<&TiktokOrderId>,
        text: impl AsRef<str>,
    ) {
        let mut guard = self.events.lock().unwrap_or_else(|e| e.into_inner());
        let (seq, events) = &mut *guard;
        *seq += 1;
        if events.len() == KEEP {
            events.pop_front();
        }
        let text = text::sanitize(text.as_ref());
        match level {
            Level::Error => {
                tracing::warn!(link = ?link.map(|l| l.as_str()), order = ?order.map(|o| o.as_str()), "{text}")
            }
            _ => {
                tracing::info!(link = ?link.map(|l| l.as_str()), order = ?order.map(|o| o.as_str()), "{text}")
            }
        }
        events.push_back(EngineEvent {
            seq: *seq,
            at,
            level,
            link: link.cloned(),
            order: order.cloned(),
            text,
        });
    }

    /// Newest first, skipping `offset`, optionally only those containing `filter` (case-insensitive).
    pub fn page(
        &self,
        filter: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> (usize, Vec<EngineEvent>) {
        let guard = self.events.lock().unwrap_or_else(|e| e.into_inner());
        let needle = filter.map(str::to_lowercase);
        let matching: Vec<&EngineEvent> = guard
            .1
            .iter()
            .rev()
            .filter(|e| {
                needle
                    .as_deref()
                    .is_none_or(|n| e.text.to_lowercase().contains(n))
            })
            .collect();
        let total = matching.len();
        (
            total,
            matching
                .into_iter()
                .skip(offset)
                .take(limit)
                .cloned()
                .collect(),
        )
    }

    /// Errors recorded for `link` since `since`.
    pub fn errors_since(&self, link: &LinkId, since: Timestamp) -> usize {
        let guard = self.events.lock().unwrap_or_else(|e| e.into_inner());
        guard
            .1
            .iter()
            .filter(|e| e.level == Level::Error && e.at >= since && e.link.as_ref() == Some(link))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::clock::from_unix;

    #[test]
    fn newest_first_filtered_and_sanitized() {
        let a = Activity::default();
        let link = LinkId::new("uk").unwrap();
        a.record(from_unix(1), Level::Info, Some(&link), None, "poll ok");
        a.record(
            from_unix(2),
            Level::Error,
            Some(&link),
            None,
            "poll failed\u{1b}[2J",
        );
        let (total, page) = a.page(None, 0, 10);
        assert_eq!(total, 2);
        assert_eq!(page[0].text, "poll failed\u{FFFD}[2J");
        assert_eq!(a.page(Some("OK"), 0, 10).0, 1);
        assert_eq!(a.errors_since(&link, from_unix(0)), 1);
        assert_eq!(a.errors_since(&link, from_unix(3)), 0);
    }
}
