//! Asking the service for what is shown: the overview, the visible page of a list (plus a
//! little either side, never a whole table), an order's detail, a link's settings. Each request
//! is remembered by its ticket id so only the newest answer is taken.

use crate::domain::triage::OrderView;
use crate::service::api::{
    AuditQuery, CancellationQuery, MAX_PAGE, OrderQuery, Request, RequestQuery, Sort,
};

use crate::console::effect::{Effect, ListId, Purpose, Ticket};
use crate::console::state::{DetailState, State, View};

/// Runs `$body` with `$list` bound to the list `$id` names (the lists differ in row type).
macro_rules! with_list {
    ($state:expr, $id:expr, |$list:ident| $body:expr) => {
        match $id {
            $crate::console::effect::ListId::Pending => {
                let $list = &mut $state.pending;
                $body
            }
            $crate::console::effect::ListId::Missing => {
                let $list = &mut $state.missing;
                $body
            }
            $crate::console::effect::ListId::Stuck => {
                let $list = &mut $state.stuck;
                $body
            }
            $crate::console::effect::ListId::Cancellations => {
                let $list = &mut $state.cancellations;
                $body
            }
            $crate::console::effect::ListId::Approvals => {
                let $list = &mut $state.approvals;
                $body
            }
            $crate::console::effect::ListId::Activity => {
                let $list = &mut $state.activity;
                $body
            }
            $crate::console::effect::ListId::Orders => {
                let $list = &mut $state.orders;
                $body
            }
        }
    };
}
pub(crate) use with_list;

/// The list a view shows, if it is a paged list.
pub fn list_of(view: View) -> Option<ListId> {
    match view {
        View::Pending => Some(ListId::Pending),
        View::Missing => Some(ListId::Missing),
        View::Stuck => Some(ListId::Stuck),
        View::Cancellations => Some(ListId::Cancellations),
        View::Approvals => Some(ListId::Approvals),
        View::Activity => Some(ListId::Activity),
        View::Orders => Some(ListId::Orders),
        View::Stores | View::Settings => None,
    }
}

pub(super) fn call(state: &mut State, purpose: Purpose, request: Request) -> (u64, Effect) {
    let id = state.next_id();
    let ticket = Ticket { id, purpose };
    (id, Effect::Call { ticket, request })
}

/// Reads the newest requests again when some asked from here still wait for a decision.
pub fn load_asked(state: &mut State) -> Vec<Effect> {
    if state.asked.is_empty() {
        return Vec::new();
    }
    let request = Request::Requests(RequestQuery {
        pending_only: false,
        offset: 0,
        limit: 100,
        sort: Default::default(),
    });
    vec![call(state, Purpose::Asked, request).1]
}

pub fn load_overview(state: &mut State) -> Vec<Effect> {
    let (id, effect) = call(state, Purpose::Overview, Request::Overview);
    state.overview_waiting_for = Some(id);
    vec![effect]
}

/// Everything the current screen shows, asked again (the overview feeds the tab counts).
pub fn load_view(state: &mut State) -> Vec<Effect> {
    if let Some(detail) = &state.detail {
        let id = detail.id.clone();
        return load_detail(state, id);
    }
    match list_of(state.view) {
        Some(list) => load_page(state, list, true),
        None if state.view == View::Settings => load_settings(state),
        None => Vec::new(),
    }
}

/// Asks for the rows around the screen: always when `again`, else only when the screen shows
/// rows that are not loaded. A filtered page waits while an answer is on its way (`List::owed`).
pub fn load_page(state: &mut State, list: ListId, again: bool) -> Vec<Effect> {
    let page = state.page_rows();
    let window = with_list!(state, list, |l| if again {
        Some(l.window_again(page))
    } else {
        l.window_needed(page)
    });
    let Some((offset, limit)) = window else {
        return Vec::new();
    };
    let limit = limit.min(MAX_PAGE);
    let link = state.link.clone();
    let filter = |text: &str| (!text.trim().is_empty()).then(|| text.trim().to_string());
    let request = match order_query(state, list, offset, limit) {
        Some(query) => Request::Orders(query),
        None => match list {
            ListId::Cancellations => Request::Cancellations(CancellationQuery {
                link,
                filter: filter(&state.cancellations.filter),
                waiting_only: false,
                offset,
                limit,
                sort: Sort {
                    column: state.cancellations.sort,
                    dir: state.cancellations.dir,
                },
            }),
            ListId::Approvals => Request::Requests(RequestQuery {
                pending_only: true,
                offset,
                limit,
                sort: Sort {
                    column: state.approvals.sort,
                    dir: state.approvals.dir,
                },
            }),
            ListId::Activity => Request::Activity(AuditQuery {
                since: None,
                filter: filter(&state.activity.filter),
                offset,
                limit,
                sort: Sort {
                    column: state.activity.sort,
                    dir: state.activity.dir,
                },
            }),
            ListId::Pending | ListId::Missing | ListId::Stuck | ListId::Orders => {
                return Vec::new();
            }
        },
    };
    if request.scans() && with_list!(state, list, |l| l.waiting_for.is_some()) {
        with_list!(state, list, |l| l.owed = true);
        return Vec::new();
    }
    let (id, effect) = call(state, Purpose::Page(list), request);
    with_list!(state, list, |l| {
        l.waiting_for = Some(id);
        l.owed = false;
    });
    vec![effect]
}

/// The query of an order list's rows `offset..offset + limit`, as the list is filtered and
/// sorted now; `None` for the lists that are not of orders.
fn order_query(state: &State, list: ListId, offset: usize, limit: usize) -> Option<OrderQuery> {
    let (l, view) = match list {
        ListId::Pending => (&state.pending, OrderView::Pending),
        ListId::Missing => (&state.missing, OrderView::MissingTracking),
        ListId::Stuck => (&state.stuck, OrderView::Stuck),
        ListId::Orders => (&state.orders, OrderView::All),
        ListId::Cancellations | ListId::Approvals | ListId::Activity => return None,
    };
    let filter = l.filter.trim();
    Some(OrderQuery {
        view,
        link: state.link.clone(),
        filter: (!filter.is_empty()).then(|| filter.to_string()),
        sort: l.sort,
        dir: l.dir,
        offset,
        limit,
    })
}

/// Asks how many orders a list holds, after a page came back `counting` (a filtered list whose
/// page filled before its end): the list shows "counting…" until the answer.
pub fn count_orders(state: &mut State, list: ListId) -> Vec<Effect> {
    let Some(query) = order_query(state, list, 0, 0) else {
        return Vec::new();
    };
    let (id, effect) = call(state, Purpose::Count(list), Request::OrderCount(query));
    with_list!(state, list, |l| l.counting_for = Some(id));
    vec![effect]
}

pub fn open_detail(state: &mut State, id: crate::domain::ids::TiktokOrderId) -> Vec<Effect> {
    state.detail = Some(DetailState {
        id: id.clone(),
        data: None,
        scroll: 0,
        waiting_for: None,
        error: None,
    });
    load_detail(state, id)
}

fn load_detail(state: &mut State, id: crate::domain::ids::TiktokOrderId) -> Vec<Effect> {
    let (ticket, effect) = call(state, Purpose::Detail, Request::Order { id });
    if let Some(detail) = &mut state.detail {
        detail.waiting_for = Some(ticket);
    }
    vec![effect]
}

/// Asks for the settings of the form's link, choosing one first if none is chosen yet.
pub fn load_settings(state: &mut State) -> Vec<Effect> {
    if state.settings.link.is_none() {
        state.settings.link = state.link.clone().or_else(|| {
            state
                .overview
                .as_ref()
                .and_then(|o| o.links.first())
                .map(|l| l.link.clone())
        });
    }
    let Some(link) = state.settings.link.clone() else {
        // The overview has not arrived; its answer asks again.
        return Vec::new();
    };
    let (id, effect) = call(
        state,
        Purpose::Settings(link.clone()),
        Request::Settings { link },
    );
    state.settings.waiting_for = Some(id);
    vec![effect]
}
