//! Everything that reaches the console besides keys: answers to its requests (only the newest
//! answer for each list is taken), change notifications (debounced, then only what is shown
//! is asked for again), connection loss and return, timers, resizes and pastes.

use std::time::Duration;

use crate::domain::request::{RequestStatus, ResyncRequest};
use crate::domain::text::sanitize;
use crate::service::api::{Notification, PROTOCOL_VERSION, Request, Response, ServiceError};
use crate::service::client::ClientEvent;

use super::lists::{list_of, load_overview, load_page, load_settings, load_view, with_list};
use super::{input, mutate, toast};
use crate::console::effect::{Effect, Event, ListId, Mutated, Purpose, Ticket, counted};
use crate::console::list::Selection;
use crate::console::state::{Changed, Connection, Session, State, View};
use crate::console::theme::Level;

/// Notifications often come in bursts (a poll touches many orders): wait this long after the
/// first before asking again, so a burst costs one refresh.
pub const DEBOUNCE: Duration = Duration::from_millis(300);

pub fn receive(state: &mut State, event: Event) -> Vec<Effect> {
    state.revision += 1;
    match event {
        Event::Reply { ticket, result } => reply(state, ticket, result),
        Event::Client(ClientEvent::Changed(notification)) => changed(state, notification),
        Event::Client(ClientEvent::Disconnected { reason }) => {
            state.connection = Connection::Reconnecting {
                reason: sanitize(&reason),
            };
            Vec::new()
        }
        Event::Client(ClientEvent::Reconnected) => reconnected(state),
        Event::Lagged => {
            state.changed = Changed {
                orders: true,
                requests: true,
                audit: true,
                settings: true,
                health: true,
            };
            arm(state)
        }
        Event::RefreshChanged => refresh_changed(state),
        Event::ExpireToast(id) => {
            state.toasts.retain(|t| t.id != id);
            Vec::new()
        }
        Event::Resize { width, height } => {
            state.width = width;
            state.height = height;
            let page = state.page_rows();
            match list_of(state.view) {
                Some(list) => {
                    with_list!(state, list, |l| l.select(l.selected, page));
                    load_page(state, list, false)
                }
                None => Vec::new(),
            }
        }
        Event::Tick(now) => {
            state.now = now;
            Vec::new()
        }
        Event::Paste(text) => input::paste(state, &text),
        Event::Mouse(mouse) => super::mouse::on_mouse(state, mouse),
    }
}

fn reply(state: &mut State, ticket: Ticket, result: Result<Response, ServiceError>) -> Vec<Effect> {
    match ticket.purpose {
        Purpose::Welcome => {
            if let Ok(Response::Welcome(welcome)) = result {
                let readonly = state.session.readonly;
                state.session = Session::from_welcome(&welcome);
                state.session.readonly = readonly;
            }
            Vec::new()
        }
        Purpose::Subscribe => match result {
            Err(e) => toast(state, Level::Warning, format!("live updates are off: {e}")),
            Ok(_) => Vec::new(),
        },
        Purpose::Overview => {
            if state.overview_waiting_for != Some(ticket.id) {
                return Vec::new();
            }
            state.overview_waiting_for = None;
            match result {
                Ok(Response::Overview(overview)) => {
                    let links = overview.links.len();
                    state.overview = Some(overview);
                    state.stores_selected = state.stores_selected.min(links.saturating_sub(1));
                    // The settings form waits for a link to show until the overview names one.
                    if state.view == View::Settings && state.settings.link.is_none() {
                        return load_settings(state);
                    }
                    Vec::new()
                }
                other => failed_load(state, "the overview", other),
            }
        }
        Purpose::Page(list) => page(state, list, ticket.id, result),
        Purpose::Count(list) => count(state, list, ticket.id, result),
        Purpose::FindOrder(typed) => super::find::found(state, &typed, result),
        Purpose::Detail => {
            let Some(detail) = &mut state.detail else {
                return Vec::new();
            };
            if detail.waiting_for != Some(ticket.id) {
                return Vec::new();
            }
            detail.waiting_for = None;
            match result {
                Ok(Response::Order(data)) => {
                    detail.data = Some(data);
                    detail.error = None;
                }
                Ok(other) => detail.error = Some(unexpected(&other)),
                Err(e) => detail.error = Some(e.to_string()),
            }
            Vec::new()
        }
        Purpose::Settings(link) => {
            let form = &mut state.settings;
            if form.waiting_for != Some(ticket.id) || form.link.as_ref() != Some(&link) {
                return Vec::new();
            }
            form.waiting_for = None;
            match result {
                Ok(Response::Settings(view)) => {
                    form.install(view);
                    Vec::new()
                }
                other => failed_load(state, "the settings", other),
            }
        }
        Purpose::Mutation(mutated) => mutation_result(state, mutated, result),
        Purpose::Asked => match result {
            Ok(Response::Requests(page)) => decided(state, &page.rows),
            _ => Vec::new(),
        },
    }
}

fn page(
    state: &mut State,
    list: ListId,
    id: u64,
    result: Result<Response, ServiceError>,
) -> Vec<Effect> {
    let page = state.page_rows();
    let waited = with_list!(state, list, |l| l.waiting_for == Some(id));
    if !waited {
        return Vec::new();
    }
    // A newer filter was typed while this answer travelled: ask for it instead.
    if with_list!(state, list, |l| std::mem::take(&mut l.owed)) {
        with_list!(state, list, |l| l.waiting_for = None);
        return load_page(state, list, true);
    }
    match (list, result) {
        (ListId::Pending, Ok(Response::Orders(p))) => state.pending.install(p, page),
        (ListId::Missing, Ok(Response::Orders(p))) => state.missing.install(p, page),
        (ListId::Stuck, Ok(Response::Orders(p))) => state.stuck.install(p, page),
        (ListId::Orders, Ok(Response::Orders(p))) => state.orders.install(p, page),
        (ListId::Cancellations, Ok(Response::Cancellations(p))) => {
            state.cancellations.install(p, page)
        }
        (ListId::Approvals, Ok(Response::Requests(p))) => state.approvals.install(p, page),
        (ListId::Activity, Ok(Response::Activity(p))) => state.activity.install(p, page),
        (_, other) => {
            let why = match other {
                Ok(response) => unexpected(&response),
                Err(e) => e.to_string(),
            };
            super::remember(
                state,
                Level::Error,
                &format!("could not load the list: {why}"),
            );
            with_list!(state, list, |l| {
                l.waiting_for = None;
                l.error = Some(why);
            });
            return Vec::new();
        }
    }
    let mut effects = Vec::new();
    if with_list!(state, list, |l| l.counting && l.counting_for.is_none()) {
        effects = super::lists::count_orders(state, list);
    }
    // The selection may have moved on while the answer travelled.
    effects.extend(load_page(state, list, false));
    effects.extend(open_typed_ahead(state, list));
    effects
}

/// Opens the row an enter typed ahead of this list's rows was for, now that they are in
/// (`State::open_when_shown`); an empty list says so. A page not yet reaching the selection
/// leaves it waiting.
fn open_typed_ahead(state: &mut State, list: ListId) -> Vec<Effect> {
    let view = state.view;
    if state.open_when_shown != Some(view) || state.detail.is_some() || list_of(view) != Some(list)
    {
        return Vec::new();
    }
    if super::navigate::selection_in(state, view) == Selection::OnItsWay {
        return Vec::new();
    }
    state.open_when_shown = None;
    super::navigate::open(state)
}

/// The total of a filtered order list, which followed its first page.
fn count(
    state: &mut State,
    list: ListId,
    id: u64,
    result: Result<Response, ServiceError>,
) -> Vec<Effect> {
    let page = state.page_rows();
    if !with_list!(state, list, |l| l.counting_for == Some(id)) {
        return Vec::new();
    }
    match result {
        Ok(Response::OrderCount { total }) => {
            with_list!(state, list, |l| l.install_count(total, page));
            load_page(state, list, false)
        }
        other => {
            with_list!(state, list, |l| l.counting_for = None);
            failed_load(state, "the list's count", other)
        }
    }
}

/// A background load failed: shown once as a toast, unless the daemon is away (the header
/// already says so).
fn failed_load(
    state: &mut State,
    what: &str,
    result: Result<Response, ServiceError>,
) -> Vec<Effect> {
    match result {
        Err(ServiceError::Disconnected { .. }) => Vec::new(),
        Err(e) => toast(state, Level::Error, format!("could not load {what}: {e}")),
        Ok(other) => toast(state, Level::Error, unexpected(&other)),
    }
}

fn unexpected(response: &Response) -> String {
    format!(
        "the service answered with an unexpected {:?} response",
        response.kind()
    )
}

fn mutation_result(
    state: &mut State,
    mutated: Mutated,
    result: Result<Response, ServiceError>,
) -> Vec<Effect> {
    let what = match &mutated {
        Mutated::Resync { .. } => "resync".to_string(),
        Mutated::Retry { .. } => "retry".to_string(),
        Mutated::Decide { request, approve } => {
            format!("{} {request}", if *approve { "approve" } else { "reject" })
        }
        Mutated::BuyerCancel { order, approve } => format!(
            "{} the cancel request of {order}",
            if *approve { "approve" } else { "reject" }
        ),
        Mutated::Label { order } => format!("reprint the label of {order}"),
        Mutated::ParcelHandled { order } => format!("mark the parcel of {order} handled"),
        Mutated::SaveSettings { link } => format!("save the settings of {link}"),
        Mutated::SyncNow => "sync".to_string(),
    };
    let response = match result {
        Ok(response) => response,
        Err(e) => {
            let mut effects = toast(state, Level::Error, format!("could not {what}: {e}"));
            if matches!(mutated, Mutated::SaveSettings { .. }) {
                // Not saved: stay, rather than go on as planned.
                state.after_save = None;
                // Most likely someone else saved first: show their version, keep the draft.
                let draft = state.settings.draft.take();
                effects.extend(load_settings(state));
                state.settings.draft = draft;
            }
            return effects;
        }
    };
    // A request that waits for an operator: its asker will be told the decision.
    if let Response::Resync(outcome) = &response
        && !outcome.running
    {
        state.asked.push(outcome.request);
    }
    let (level, text) = match (&mutated, response) {
        (Mutated::Resync { .. }, Response::Resync(outcome)) if outcome.running => (
            Level::Success,
            format!(
                "resync {} running: {} queued",
                outcome.request,
                counted(outcome.jobs.len(), "job", "jobs")
            ),
        ),
        (Mutated::Resync { count }, Response::Resync(outcome)) => (
            Level::Info,
            format!(
                "resync request {} sent for {}: it waits for an operator's approval",
                outcome.request,
                counted(*count, "order", "orders")
            ),
        ),
        (Mutated::Label { order }, Response::Label { path, printed }) => (
            Level::Success,
            if printed {
                format!("label of {order} sent to the printer ({})", sanitize(&path))
            } else {
                format!("label of {order} saved to {}", sanitize(&path))
            },
        ),
        (Mutated::SaveSettings { link }, Response::Settings(view)) => {
            let version = view.version;
            state.settings.install(view);
            (
                Level::Success,
                format!("settings of {link} saved (version {version})"),
            )
        }
        (Mutated::SyncNow, Response::Sync(summary)) => {
            let mut text = format!(
                "sync done: {} seen, {} run, {} stuck",
                counted(summary.orders_seen, "order", "orders"),
                counted(summary.jobs_run, "job", "jobs"),
                summary.jobs_stuck
            );
            if let Some(error) = summary.poll_errors.first() {
                text.push_str(&format!("; poll error: {}", sanitize(error)));
            }
            let level = if summary.poll_errors.is_empty() {
                Level::Success
            } else {
                Level::Warning
            };
            (level, text)
        }
        (_, Response::Done { message }) => (Level::Success, sanitize(&message)),
        (_, other) => (Level::Warning, format!("{what}: {}", unexpected(&other))),
    };
    let saved = matches!(mutated, Mutated::SaveSettings { .. }) && level == Level::Success;
    let mut effects = toast(state, level, text);
    effects.extend(mutate::after(state));
    if let (true, Some(then)) = (saved, state.after_save.take()) {
        // The save that the unsaved-changes question asked for is done: go on.
        effects.extend(super::navigate::leave(state, then));
    }
    effects
}

/// Tells the asker which of their requests were decided, and by whom.
fn decided(state: &mut State, requests: &[ResyncRequest]) -> Vec<Effect> {
    let mut effects = Vec::new();
    for request in requests {
        if !state.asked.contains(&request.id) {
            continue;
        }
        let (level, text) = match &request.status {
            RequestStatus::Pending => continue,
            RequestStatus::Rejected { by, reason, .. } => (
                Level::Warning,
                format!(
                    "your resync request {} was rejected by {}: {}",
                    request.id,
                    sanitize(&by.user),
                    sanitize(reason)
                ),
            ),
            RequestStatus::Running { approved_by, .. }
            | RequestStatus::Finished { approved_by, .. } => (
                Level::Success,
                format!(
                    "your resync request {} was approved by {}",
                    request.id,
                    sanitize(&approved_by.user)
                ),
            ),
        };
        state.asked.retain(|id| *id != request.id);
        effects.extend(toast(state, level, text));
    }
    effects
}

fn changed(state: &mut State, notification: Notification) -> Vec<Effect> {
    match notification {
        Notification::Orders { .. } => state.changed.orders = true,
        Notification::Requests { .. } => state.changed.requests = true,
        Notification::Audit { .. } => state.changed.audit = true,
        Notification::Settings { link, .. } => {
            state.changed.settings |= state.settings.link.as_ref() == Some(&link);
        }
        Notification::Health { .. } => state.changed.health = true,
    }
    arm(state)
}

fn arm(state: &mut State) -> Vec<Effect> {
    if state.refresh_armed || !state.changed.any() {
        return Vec::new();
    }
    state.refresh_armed = true;
    vec![Effect::Later {
        after: DEBOUNCE,
        event: Event::RefreshChanged,
    }]
}

/// After the debounce: ask again only for what the screen shows and what changed.
fn refresh_changed(state: &mut State) -> Vec<Effect> {
    state.refresh_armed = false;
    let changed = std::mem::take(&mut state.changed);
    let activity = changed.audit || changed.orders || changed.health;
    let mut effects = Vec::new();
    // The tab bar always shows the overview's counts.
    if changed.orders || changed.requests || changed.health {
        effects.extend(load_overview(state));
    }
    if changed.requests {
        effects.extend(super::lists::load_asked(state));
    }
    let shown = if state.detail.is_some() {
        changed.orders
    } else {
        match state.view {
            View::Pending | View::Missing | View::Stuck | View::Orders | View::Cancellations => {
                changed.orders
            }
            View::Approvals => changed.requests,
            // Engine events come with order and health changes, people's actions with audit.
            View::Activity if activity && !state.follow => {
                state.activity_unseen = true;
                false
            }
            View::Activity => activity,
            View::Settings if changed.settings && !state.settings.changes().is_empty() => {
                effects.extend(toast(
                    state,
                    Level::Warning,
                    "these settings were changed elsewhere; saving will be refused until you revert (u)",
                ));
                false
            }
            View::Settings => changed.settings,
            View::Stores => false,
        }
    };
    if shown {
        effects.extend(load_view(state));
    }
    effects
}

fn reconnected(state: &mut State) -> Vec<Effect> {
    let was_away = match &state.connection {
        Connection::Reconnecting { .. } => true,
        Connection::Live => false,
    };
    state.connection = Connection::Live;
    let mut effects = Vec::new();
    for (purpose, request) in [
        (
            Purpose::Welcome,
            Request::Hello {
                protocol: PROTOCOL_VERSION,
                ssh_connection: std::env::var("SSH_CONNECTION").ok(),
            },
        ),
        (Purpose::Subscribe, Request::Subscribe),
    ] {
        let id = state.next_id();
        effects.push(Effect::Call {
            ticket: Ticket { id, purpose },
            request,
        });
    }
    effects.extend(load_overview(state));
    effects.extend(load_view(state));
    if was_away {
        effects.extend(toast(state, Level::Success, "reconnected"));
    }
    effects
}
