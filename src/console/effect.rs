//! What the reducer asks the outside world to do, and what comes back. Effects are data: a
//! service call is a [`Request`] with a [`Ticket`] saying what its answer is for, so tests can
//! assert exactly which calls an action makes, and the runtime is the only place that does IO.
//!
//! Writes wait for a yes first: anything that writes to a platform or to settings is a
//! [`Mutation`] held by a [`Confirm`] (yes/no) or a [`Prompt`] (asks a reason; Enter confirms)
//! whose question names how many rows it acts on and how many of the marked rows the current
//! filter hides. Only a confirmed mutation becomes service calls ([`Mutation::calls`]).

use std::time::Duration;

use tui_input::Input;

use crate::domain::clock::Timestamp;
use crate::domain::ids::{CancelId, LinkId, RequestId, TiktokOrderId};
use crate::domain::request::ResyncFlow;
use crate::service::api::{Request, Response, ServiceError};
use crate::service::client::ClientEvent;

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Send `request` to the service; answer with [`Event::Reply`] carrying the same ticket.
    Call {
        ticket: Ticket,
        request: Request,
    },
    /// Deliver `event` after `after` (debounced refreshes, toasts that fade).
    Later {
        after: Duration,
        event: Event,
    },
    /// Put text on the clipboard of the person's own terminal (OSC 52).
    Copy(String),
    /// Repaint every cell on the next frame.
    Redraw,
    Quit,
}

/// Which request an answer belongs to. Lists keep the id of the request they wait for and drop
/// any older answer, so a slow reply can never overwrite a newer page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub id: u64,
    pub purpose: Purpose,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    /// Who am I (again, after a reconnect).
    Welcome,
    /// Nothing to do with the answer beyond reporting an error.
    Subscribe,
    Overview,
    Page(ListId),
    Detail,
    Settings(LinkId),
    Mutation(Mutated),
}

/// The paged lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListId {
    Pending,
    Missing,
    Cancellations,
    Approvals,
    Activity,
}

/// What a mutation was, to word its result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mutated {
    Resync { count: usize },
    Retry { count: usize },
    Decide { request: RequestId, approve: bool },
    BuyerCancel { order: TiktokOrderId, approve: bool },
    Label { order: TiktokOrderId },
    SaveSettings { link: LinkId },
    SyncNow,
}

/// Everything that reaches the reducer other than a person's action.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Reply {
        ticket: Ticket,
        result: Result<Response, ServiceError>,
    },
    Client(ClientEvent),
    /// Notifications were missed (a slow receiver): assume everything changed.
    Lagged,
    /// The debounce after change notifications is over: re-ask for what is shown.
    RefreshChanged,
    ExpireToast(u64),
    Resize {
        width: u16,
        height: u16,
    },
    /// Wall-clock time moved (deadlines and ages are shown relative to it).
    Tick(Timestamp),
    /// Text pasted into the terminal.
    Paste(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mutation {
    Resync {
        orders: Vec<TiktokOrderId>,
        flow: ResyncFlow,
    },
    Retry {
        orders: Vec<TiktokOrderId>,
    },
    Labels {
        orders: Vec<TiktokOrderId>,
    },
    Decide {
        requests: Vec<RequestId>,
        approve: bool,
    },
    BuyerCancel {
        cancels: Vec<(CancelId, TiktokOrderId)>,
        approve: bool,
    },
    SaveSettings {
        link: LinkId,
        changes: Vec<(String, String)>,
        version: u64,
    },
    SyncNow {
        link: Option<LinkId>,
    },
}

impl Mutation {
    /// The service calls that carry out this mutation, each with what to say about its result.
    pub fn calls(&self, reason: Option<String>) -> Vec<(Mutated, Request)> {
        match self {
            Mutation::Resync { orders, flow } => vec![(
                Mutated::Resync {
                    count: orders.len(),
                },
                Request::Resync {
                    orders: orders.clone(),
                    flow: *flow,
                    reason: reason.unwrap_or_default(),
                },
            )],
            Mutation::Retry { orders } => vec![(
                Mutated::Retry {
                    count: orders.len(),
                },
                Request::RetryStuck {
                    orders: orders.clone(),
                    reason,
                },
            )],
            Mutation::Labels { orders } => orders
                .iter()
                .map(|order| {
                    (
                        Mutated::Label {
                            order: order.clone(),
                        },
                        Request::ReprintLabel {
                            order: order.clone(),
                            print: true,
                        },
                    )
                })
                .collect(),
            Mutation::Decide { requests, approve } => requests
                .iter()
                .map(|id| {
                    (
                        Mutated::Decide {
                            request: *id,
                            approve: *approve,
                        },
                        Request::Decide {
                            request: *id,
                            approve: *approve,
                            reason: reason.clone(),
                        },
                    )
                })
                .collect(),
            Mutation::BuyerCancel { cancels, approve } => cancels
                .iter()
                .map(|(cancel_id, order)| {
                    (
                        Mutated::BuyerCancel {
                            order: order.clone(),
                            approve: *approve,
                        },
                        Request::RespondBuyerCancel {
                            cancel_id: cancel_id.clone(),
                            approve: *approve,
                            reject_reason: if *approve { None } else { reason.clone() },
                            comment: None,
                        },
                    )
                })
                .collect(),
            Mutation::SaveSettings {
                link,
                changes,
                version,
            } => vec![(
                Mutated::SaveSettings { link: link.clone() },
                Request::SetSettings {
                    link: link.clone(),
                    changes: changes.clone(),
                    expected_version: *version,
                    reason,
                },
            )],
            Mutation::SyncNow { link } => {
                vec![(Mutated::SyncNow, Request::SyncNow { link: link.clone() })]
            }
        }
    }
}

/// A yes/no question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    pub title: String,
    pub question: String,
    /// More lines under the question (a settings diff, the targets).
    pub details: Vec<String>,
    pub mutation: Mutation,
}

/// A question that needs a typed reason; Enter confirms.
#[derive(Debug, Clone)]
pub struct Prompt {
    pub title: String,
    pub question: String,
    /// What happens next, e.g. that an operator must approve.
    pub note: Option<String>,
    pub input: Input,
    pub required: bool,
    /// Why the last Enter was refused.
    pub error: Option<String>,
    pub mutation: Mutation,
}

/// "3 orders", "1 order".
pub fn counted(count: usize, singular: &str, plural: &str) -> String {
    format!(
        "{} {}",
        thousands(count),
        if count == 1 { singular } else { plural }
    )
}

/// The question of a confirmation: "Resync 3 orders (1 marked order hidden by the filter)?".
pub fn question(verb: &str, count: usize, noun: (&str, &str), hidden: usize) -> String {
    let mut text = format!("{verb} {}", counted(count, noun.0, noun.1));
    if hidden > 0 {
        text.push_str(&format!(
            " ({} hidden by the filter)",
            counted(
                hidden,
                &format!("marked {}", noun.0),
                &format!("marked {}", noun.1)
            )
        ));
    }
    text.push('?');
    text
}

/// 12431 → "12,431".
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_name_the_count_and_the_hidden_marks() {
        let orders = ("order", "orders");
        assert_eq!(
            question("Resync", 3, orders, 1),
            "Resync 3 orders (1 marked order hidden by the filter)?"
        );
        assert_eq!(question("Retry", 1, orders, 0), "Retry 1 order?");
        assert_eq!(
            question("Approve", 2, ("request", "requests"), 2),
            "Approve 2 requests (2 marked requests hidden by the filter)?"
        );
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(12_431), "12,431");
        assert_eq!(thousands(100_000), "100,000");
    }
}
