//! Actions that change something: resync, retry, reprint, answering buyer cancel requests,
//! deciding resync requests, syncing now. Each picks its targets (the marked rows, else the
//! selected one, else the open order), then asks: a [`Confirm`] or a reason [`Prompt`] whose
//! question names the count and the marked rows the filter hides. Only [`run`] makes calls.

use tui_input::Input;

use crate::domain::audit::Actor;
use crate::domain::cancellation::CancellationKey;
use crate::domain::cause::StuckCause;
use crate::domain::ids::{LinkId, TiktokOrderId};
use crate::domain::order::Flow;
use crate::domain::request::{ResyncFlow, ResyncPath, check_decision, resync_path};

use super::lists::{load_overview, load_view};
use super::toast;
use crate::console::action::Action;
use crate::console::effect::{
    Confirm, Effect, Mutation, Prompt, Purpose, Ticket, counted, question,
};
use crate::console::state::{Overlay, State, View};
use crate::console::theme::Level;

const ORDERS: (&str, &str) = ("order", "orders");

pub fn start(state: &mut State, action: Action) -> Vec<Effect> {
    if let Err(why) = super::available(state, action) {
        return toast(state, Level::Info, why);
    }
    let asked = match action {
        Action::Resync => resync(state),
        Action::RetryStuck => orders(state).map(|(orders, hidden)| {
            ask(
                state,
                "Retry stuck jobs",
                question("Retry the stuck jobs of", orders.len(), ORDERS, hidden),
                Vec::new(),
                Mutation::Retry { orders },
            )
        }),
        Action::RetryCause => cause(state).map(|(link, cause, orders)| {
            let count = match orders {
                Some(1) => "the 1 order".to_string(),
                Some(n) => format!("the {n} orders"),
                None => "every order".to_string(),
            };
            ask(
                state,
                "Retry all waiting on this cause",
                format!(
                    "Retry the stuck jobs of {count} of {link} waiting on {}?",
                    cause.describe()
                ),
                vec![cause.diagnosis()],
                Mutation::RetryCause { link, cause },
            )
        }),
        Action::ReprintLabel => orders(state).map(|(orders, hidden)| {
            if orders.len() == 1 && hidden == 0 {
                return run(state, &Mutation::Labels { orders }, None);
            }
            ask(
                state,
                "Reprint labels",
                question("Reprint the labels of", orders.len(), ORDERS, hidden),
                Vec::new(),
                Mutation::Labels { orders },
            )
        }),
        Action::ParcelHandled => parcel_handled(state),
        Action::ApproveCancel | Action::RejectCancel => buyer_cancel(state, action),
        Action::ApproveRequest | Action::RejectRequest => decide(state, action),
        Action::SyncNow => {
            let link = state
                .overview
                .as_ref()
                .and_then(|o| o.links.get(state.stores_selected))
                .map(|l| l.link.clone());
            Ok(ask_sync(state, link))
        }
        _ => Ok(Vec::new()),
    };
    asked.unwrap_or_else(|why| toast(state, Level::Info, why))
}

/// The cause to retry: the open order's (its first stuck flow's), else in Stores the one the
/// most orders of the selected link wait on; with how many orders wait on it when known.
/// Orders that need a person share no cause: they are retried one by one (`retry`).
fn cause(state: &State) -> Result<(LinkId, StuckCause, Option<usize>), String> {
    if let Some(detail) = &state.detail {
        let order = &detail
            .data
            .as_ref()
            .ok_or("the order is still loading")?
            .order;
        let cause = Flow::ALL
            .into_iter()
            .find_map(|f| order.flows.get(f).stuck_on().cloned())
            .ok_or("nothing of this order is stuck")?;
        if !cause.resumes_by_itself() {
            return Err(
                "this order needs a person: its cause is its own (retry it with retry)".into(),
            );
        }
        return Ok((order.link.clone(), cause, None));
    }
    let link = state
        .overview
        .as_ref()
        .and_then(|o| o.links.get(state.stores_selected))
        .ok_or("no link is selected")?;
    link.waiting
        .iter()
        .filter(|w| w.cause.resumes_by_itself())
        .max_by(|a, b| a.orders.cmp(&b.orders).then_with(|| b.cause.cmp(&a.cause)))
        .map(|w| (link.link.clone(), w.cause.clone(), Some(w.orders)))
        .ok_or_else(|| {
            format!(
                "no stuck order of {} waits on a shared cause (a SKU, a carrier, credentials)",
                link.link
            )
        })
}

/// Asks before polling one link (or all of them) now.
pub fn ask_sync(state: &mut State, link: Option<LinkId>) -> Vec<Effect> {
    let what = link
        .as_ref()
        .map_or("every link".to_string(), |l| l.to_string());
    ask(
        state,
        "Sync now",
        format!("Poll {what} now and run the jobs that are due?"),
        Vec::new(),
        Mutation::SyncNow { link },
    )
}

/// Carries out a confirmed mutation: one call per request, each answered with a toast.
pub fn run(state: &mut State, mutation: &Mutation, reason: Option<String>) -> Vec<Effect> {
    // The marked rows were acted on; leaving them marked invites doing it twice.
    match state.view {
        View::Pending => state.pending.marks.clear(),
        View::Missing => state.missing.marks.clear(),
        View::Stuck => state.stuck.marks.clear(),
        View::Orders => state.orders.marks.clear(),
        View::Cancellations => state.cancellations.marks.clear(),
        View::Approvals => state.approvals.marks.clear(),
        _ => {}
    }
    mutation
        .calls(reason)
        .into_iter()
        .map(|(mutated, request)| Effect::Call {
            ticket: Ticket {
                id: state.next_id(),
                purpose: Purpose::Mutation(mutated),
            },
            request,
        })
        .collect()
}

/// After a mutation's answer: what is shown may have changed.
pub fn after(state: &mut State) -> Vec<Effect> {
    let mut effects = load_overview(state);
    effects.extend(load_view(state));
    effects
}

fn ask(
    state: &mut State,
    title: &str,
    question: String,
    details: Vec<String>,
    mutation: Mutation,
) -> Vec<Effect> {
    state.overlay = Some(Overlay::Confirm(Confirm::new(
        title, question, details, mutation,
    )));
    Vec::new()
}

fn ask_reason(
    state: &mut State,
    title: &str,
    question: String,
    note: Option<String>,
    mutation: Mutation,
) -> Vec<Effect> {
    state.overlay = Some(Overlay::Prompt(Prompt {
        title: title.to_string(),
        question,
        note,
        input: Input::default(),
        required: true,
        error: None,
        mutation,
    }));
    Vec::new()
}

/// The orders an order action applies to, with how many marked ones the filter hides.
fn orders(state: &State) -> Result<(Vec<TiktokOrderId>, usize), String> {
    let (ids, hidden) = if let Some(detail) = &state.detail {
        (vec![detail.id.clone()], 0)
    } else {
        let link = state.link.as_ref();
        if let Some(list) = state.order_list(state.view) {
            let (rows, hidden) = list.chosen(link);
            (rows.into_iter().map(|r| r.id).collect(), hidden)
        } else if state.view == View::Cancellations {
            let (rows, hidden) = state.cancellations.chosen(link);
            let mut ids: Vec<_> = rows.into_iter().map(|r| r.order_id).collect();
            ids.dedup();
            (ids, hidden)
        } else {
            (Vec::new(), 0)
        }
    };
    if ids.is_empty() {
        return Err("no order selected".into());
    }
    Ok((ids, hidden))
}

fn resync(state: &mut State) -> Result<Vec<Effect>, String> {
    let (orders, hidden) = orders(state)?;
    let flow = match (&state.detail, state.view) {
        (Some(detail), _) => detail
            .data
            .as_ref()
            .and_then(|d| d.order.flows.stuck())
            .map_or(ResyncFlow::Import, |(flow, _)| match flow {
                Flow::Tracking => ResyncFlow::Tracking,
                Flow::Cancellation => ResyncFlow::Cancel,
                Flow::Import | Flow::Label | Flow::Address => ResyncFlow::Import,
            }),
        (None, View::Missing) => ResyncFlow::Tracking,
        (None, View::Cancellations) => ResyncFlow::Cancel,
        (None, _) => ResyncFlow::Import,
    };
    let role = state
        .session
        .role
        .unwrap_or(crate::domain::access::Role::Viewer);
    let (title, note) = match resync_path(role, state.session.two_person) {
        ResyncPath::RunsNow => ("Resync", format!("Runs the {} flow now.", flow.name())),
        ResyncPath::NeedsApproval if role >= crate::domain::access::Role::Operator => (
            "Request a resync",
            format!(
                "Becomes a request: with two-person approval on, another operator must approve it ({} flow).",
                flow.name()
            ),
        ),
        ResyncPath::NeedsApproval => (
            "Request a resync",
            format!(
                "Becomes a request: an operator must approve it; you are {role} ({} flow).",
                flow.name()
            ),
        ),
    };
    Ok(ask_reason(
        state,
        title,
        question("Resync", orders.len(), ORDERS, hidden),
        Some(note),
        Mutation::Resync { orders, flow },
    ))
}

fn parcel_handled(state: &mut State) -> Result<Vec<Effect>, String> {
    let detail = state.detail.as_ref().ok_or("open the order first")?;
    let parcel = detail
        .data
        .as_ref()
        .and_then(|d| d.order.open_parcel())
        .ok_or("no parcel shipped after a TikTok cancel is waiting here")?;
    let question = format!("How did the parcel of {} end?", detail.id);
    let note = format!(
        "{} Type the outcome (intercepted, returned or written-off), then what was done: e.g. returned RMA 4411",
        parcel.instruction()
    );
    let mutation = Mutation::ParcelHandled {
        order: detail.id.clone(),
    };
    Ok(ask_reason(
        state,
        "Parcel handled",
        question,
        Some(note),
        mutation,
    ))
}

fn buyer_cancel(state: &mut State, action: Action) -> Result<Vec<Effect>, String> {
    let approve = action == Action::ApproveCancel;
    let (cancels, hidden) = if let Some(detail) = &state.detail {
        let waiting = detail.data.iter().flat_map(|d| d.cancellations.iter());
        let cancels: Vec<_> = waiting
            .filter(|c| c.awaits_seller())
            .filter_map(|c| match &c.key {
                CancellationKey::Tiktok(id) => Some((id.clone(), c.order_id.clone())),
                _ => None,
            })
            .collect();
        (cancels, 0)
    } else {
        let (rows, hidden) = state.cancellations.chosen(state.link.as_ref());
        let cancels: Vec<_> = rows
            .into_iter()
            .filter(|r| r.awaits_seller)
            .filter_map(|r| match r.key {
                CancellationKey::Tiktok(id) => Some((id, r.order_id)),
                _ => None,
            })
            .collect();
        (cancels, hidden)
    };
    if cancels.is_empty() {
        return Err("no buyer cancel request waiting for the seller's answer here".into());
    }
    let noun = ("buyer cancel request", "buyer cancel requests");
    let mutation = Mutation::BuyerCancel {
        cancels: cancels.clone(),
        approve,
    };
    Ok(if approve {
        ask(
            state,
            "Approve buyer cancel",
            question("Approve", cancels.len(), noun, hidden),
            vec![
                "TikTok cancels the order and refunds the buyer; the store order is cancelled next."
                    .into(),
            ],
            mutation,
        )
    } else {
        ask_reason(
            state,
            "Reject buyer cancel",
            question("Reject", cancels.len(), noun, hidden),
            Some("The buyer sees this reason on TikTok.".into()),
            mutation,
        )
    })
}

fn decide(state: &mut State, action: Action) -> Result<Vec<Effect>, String> {
    let approve = action == Action::ApproveRequest;
    let (rows, hidden) = state.approvals.chosen(None);
    let me = Actor {
        user: state.session.user.clone(),
        uid: state.session.uid,
        role: state.session.role,
        from: None,
    };
    let (allowed, refused): (Vec<_>, Vec<_>) = rows
        .into_iter()
        .map(|r| (check_decision(&r, &me, state.session.two_person), r))
        .partition(|(check, _)| check.is_ok());
    let mut effects = Vec::new();
    if let Some((Err(why), _)) = refused.first() {
        let why = why.clone();
        effects.extend(toast(state, Level::Warning, why));
    }
    if allowed.is_empty() {
        return Ok(effects);
    }
    let requests: Vec<_> = allowed.iter().map(|(_, r)| r.id).collect();
    let targets: usize = allowed.iter().map(|(_, r)| r.targets.len()).sum();
    let details = vec![format!(
        "{}: {}",
        counted(targets, "order", "orders"),
        allowed
            .iter()
            .map(|(_, r)| format!(
                "{} ({} flow, by {})",
                r.id,
                r.flow.name(),
                r.requested_by.user
            ))
            .collect::<Vec<_>>()
            .join(", ")
    )];
    let mutation = Mutation::Decide { requests, approve };
    let count = allowed.len();
    let noun = ("request", "requests");
    effects.extend(if approve {
        ask(
            state,
            "Approve resync",
            question("Approve", count, noun, hidden),
            details,
            mutation,
        )
    } else {
        ask_reason(
            state,
            "Reject resync",
            question("Reject", count, noun, hidden),
            Some("The requester sees this reason.".into()),
            mutation,
        )
    });
    Ok(effects)
}
