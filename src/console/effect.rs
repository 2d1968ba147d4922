//! What the reducer asks the outside world to do, and what comes back. Effects are data: a
//! service call is a [`Request`] with a [`Ticket`] saying what its answer is for, so tests can
//! assert exactly which calls an action makes, and the runtime is the only place that does IO.
//!
//! Writes wait for a yes first: anything that writes to a platform or to settings is a
//! [`Mutation`] held by a [`Confirm`] (yes/no; the default, Enter, is no) or a [`Prompt`] (asks
//! a reason; Enter confirms) whose question names how many rows it acts on and how many of the
//! marked rows the current filter hides, and which lists the targets (the first ten, then a
//! count). A write to more than [`TYPE_THE_COUNT_ABOVE`] rows asks for the count to be typed.
//! Only a confirmed mutation becomes service calls ([`Mutation::calls`]).

use std::time::Duration;

use tui_input::Input;

use crate::domain::cause::StuckCause;
use crate::domain::clock::Timestamp;
use crate::domain::ids::{CancelId, LinkId, RequestId, TiktokOrderId};
use crate::domain::request::ResyncFlow;
use crate::domain::rules::parcel;
use crate::domain::text::thousands;
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
    /// Give the terminal back and stop (ctrl-z); take it again when continued.
    Suspend,
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
    /// The total of an order list whose page came back `counting`.
    Count(ListId),
    Detail,
    /// The orders named by what was typed after `:order` (kept, to word the answer).
    FindOrder(String),
    Settings(LinkId),
    Mutation(Mutated),
    /// The requests this console asked for, read again to tell the asker their decision.
    Asked,
}

/// The paged lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListId {
    Pending,
    Missing,
    Stuck,
    Cancellations,
    Approvals,
    Activity,
    /// Every order (the Orders view).
    Orders,
}

/// What a mutation was, to word its result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mutated {
    Resync { count: usize },
    Retry { count: usize },
    Decide { request: RequestId, approve: bool },
    BuyerCancel { order: TiktokOrderId, approve: bool },
    Label { order: TiktokOrderId },
    ParcelHandled { order: TiktokOrderId },
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
    /// The mouse, when `[console] mouse` is on: a click or a turn of the wheel.
    Mouse(Mouse),
}

/// A mouse event, in screen cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mouse {
    pub kind: MouseKind,
    pub column: u16,
    pub row: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MouseKind {
    Click,
    WheelUp,
    WheelDown,
}

/// Writes to more rows than this ask for the count to be typed, not just a yes.
pub const TYPE_THE_COUNT_ABOVE: usize = 10;

/// Targets a confirmation lists by id before it says "and N more".
pub const TARGETS_LISTED: usize = 10;

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
    /// How a parcel shipped after TikTok's cancel ended: the prompt's line is the outcome
    /// then the note (`returned RMA 4411`).
    ParcelHandled {
        order: TiktokOrderId,
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
    /// Every stuck order of `link` waiting on `cause`.
    RetryCause {
        link: LinkId,
        cause: StuckCause,
    },
}

impl Mutation {
    /// What it acts on, as the person knows them: order ids, request ids, a link.
    pub fn targets(&self) -> Vec<String> {
        let all = |ids: &[TiktokOrderId]| ids.iter().map(ToString::to_string).collect();
        match self {
            Mutation::Resync { orders, .. }
            | Mutation::Retry { orders }
            | Mutation::Labels { orders } => all(orders),
            Mutation::ParcelHandled { order } => vec![order.to_string()],
            Mutation::Decide { requests, .. } => requests.iter().map(ToString::to_string).collect(),
            Mutation::BuyerCancel { cancels, .. } => {
                cancels.iter().map(|(_, order)| order.to_string()).collect()
            }
            Mutation::SaveSettings { link, .. } => vec![link.to_string()],
            Mutation::RetryCause { link, cause } => {
                vec![format!("{link}: {}", cause.describe())]
            }
            Mutation::SyncNow { link } => vec![
                link.as_ref()
                    .map_or("every link".to_string(), ToString::to_string),
            ],
        }
    }

    /// How many rows it writes to (a settings save or a sync counts as one).
    pub fn count(&self) -> usize {
        match self {
            Mutation::SaveSettings { .. }
            | Mutation::SyncNow { .. }
            | Mutation::RetryCause { .. } => 1,
            _ => self.targets().len(),
        }
    }

    /// The label before what the person types.
    pub fn input_label(&self) -> &'static str {
        match self {
            Mutation::ParcelHandled { .. } => " Outcome and note: ",
            _ => " Reason: ",
        }
    }

    /// Whether the typed reason is one this mutation can use; why not, said to the person.
    pub fn check_reason(&self, reason: &str) -> Result<(), String> {
        match self {
            Mutation::ParcelHandled { .. } => parcel::parse_answer(reason).map(drop),
            _ => Ok(()),
        }
    }

    /// The service calls that carry out this mutation, each with what to say about its result.
    pub fn calls(&self, reason: Option<String>) -> Vec<(Mutated, Request)> {
        match self {
            Mutation::ParcelHandled { order } => {
                // Checked when typed (`check_reason`): a line that does not parse calls nothing.
                let Ok((outcome, note)) = parcel::parse_answer(&reason.unwrap_or_default()) else {
                    return Vec::new();
                };
                vec![(
                    Mutated::ParcelHandled {
                        order: order.clone(),
                    },
                    Request::MarkParcelHandled {
                        order: order.clone(),
                        outcome,
                        note,
                    },
                )]
            }
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
            Mutation::RetryCause { link, cause } => vec![(
                Mutated::Retry { count: 1 },
                Request::RetryCause {
                    link: link.clone(),
                    cause: cause.clone(),
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
#[derive(Debug, Clone)]
pub struct Confirm {
    pub title: String,
    pub question: String,
    /// More lines under the question (a settings diff, what happens next).
    pub details: Vec<String>,
    pub mutation: Mutation,
    /// The reason already given (a prompt's), carried to the calls.
    pub reason: Option<String>,
    /// For a write to many rows: the count must be typed here, and Enter checks it.
    pub typed: Option<TypedCount>,
}

impl Confirm {
    /// A question about `mutation`; the count has to be typed when it writes to many rows.
    pub fn new(title: &str, question: String, details: Vec<String>, mutation: Mutation) -> Confirm {
        let count = mutation.count();
        Confirm {
            title: title.to_string(),
            question,
            details,
            typed: (count > TYPE_THE_COUNT_ABOVE).then(TypedCount::default),
            mutation,
            reason: None,
        }
    }
}

/// The count typed to confirm a bulk write, and why the last Enter was refused.
#[derive(Debug, Clone, Default)]
pub struct TypedCount {
    pub input: Input,
    pub error: Option<String>,
}

/// "576…, 577… and 15 more": the first [`TARGETS_LISTED`] targets, then how many others.
pub fn listed(targets: &[String]) -> String {
    let shown = targets
        .iter()
        .take(TARGETS_LISTED)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    match targets.len().saturating_sub(TARGETS_LISTED) {
        0 => shown,
        more => format!("{shown} and {} more", thousands(more)),
    }
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
    fn targets_are_listed_up_to_ten_then_counted() {
        let ids: Vec<String> = (1..=25).map(|i| format!("R{i}")).collect();
        assert_eq!(
            listed(&ids),
            "R1, R2, R3, R4, R5, R6, R7, R8, R9, R10 and 15 more"
        );
        assert_eq!(listed(&ids[..2]), "R1, R2");
    }

    #[test]
    fn many_rows_need_the_count_typed() {
        let orders = |n: u64| Mutation::Retry {
            orders: (0..n)
                .map(|i| TiktokOrderId::new(format!("57646{i}")).unwrap())
                .collect(),
        };
        let ask = |m| Confirm::new("t", "q".into(), Vec::new(), m);
        assert!(ask(orders(10)).typed.is_none());
        assert!(ask(orders(11)).typed.is_some());
    }
}
