//! `:order` with what a customer quotes: a TikTok order id or a store order number (`#1002`,
//! or `1002`). The service finds the orders it names from an index (one read, however many
//! orders there are); one opens its detail, several (one number in two stores) are listed in
//! the Orders view filtered to them (`order:` matches whole), none says so, naming what was
//! typed.

use crate::console::effect::{Effect, ListId, Purpose};
use crate::console::state::{State, View};
use crate::console::theme::Level;
use crate::domain::text::sanitize;
use crate::service::api::{Request, Response, ServiceError};
use crate::service::rows::ORDER_FIELD;

use super::lists::{call, load_page, open_detail};
use super::navigate::switch_view;
use super::toast;

/// Asks which orders `typed` names.
pub fn find_order(state: &mut State, typed: String) -> Vec<Effect> {
    let request = Request::FindOrder {
        text: typed.clone(),
    };
    vec![call(state, Purpose::FindOrder(typed), request).1]
}

/// The orders `typed` names, as the service found them.
pub fn found(
    state: &mut State,
    typed: &str,
    result: Result<Response, ServiceError>,
) -> Vec<Effect> {
    let shown = sanitize(typed);
    let page = match result {
        Ok(Response::Orders(page)) => page,
        Ok(other) => {
            let why = format!("looking up {shown:?}: unexpected {} answer", other.kind());
            return toast(state, Level::Error, why);
        }
        Err(e) => return toast(state, Level::Error, format!("looking up {shown:?}: {e}")),
    };
    match page.rows.as_slice() {
        [] => toast(
            state,
            Level::Warning,
            format!(
                "no order is named {shown:?}: it is neither a TikTok order id nor a store \
                 order number (/ filters the lists by any part of an order)"
            ),
        ),
        [one] => {
            let id = one.id.clone();
            open_detail(state, id)
        }
        several => {
            let count = several.len();
            state.orders.filter = format!("{ORDER_FIELD}:{typed}");
            state.orders.restart();
            let mut effects = if state.view == View::Orders && state.detail.is_none() {
                load_page(state, ListId::Orders, true)
            } else {
                switch_view(state, View::Orders)
            };
            effects.extend(toast(
                state,
                Level::Info,
                format!("{shown:?} names {count} orders (one number in several stores): pick one"),
            ));
            effects
        }
    }
}
