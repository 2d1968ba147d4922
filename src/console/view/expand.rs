//! The selected row, whole: every field of it as `Label  value`, each value wrapped to the
//! width so nothing a list cuts (Pending's "Why", Activity's "What happened", a last error, a
//! long reason) is out of reach. Opened with the expand key, scrolled like help.

use ratatui::text::{Line, Span};

use super::detail::wrap;
use super::stores::{expiry, webhooks};
use super::{ago, clean, full_stamp, left};
use crate::console::state::{State, View};
use crate::domain::request::ResyncRequest;
use crate::service::api::{ActivityItem, CancellationRow, LinkHealth, OrderRow};

/// Width of the label column.
const LABEL: usize = 16;

/// The expanded lines of the selected row at `width` columns; empty when no row is selected.
pub fn lines(state: &State, width: u16) -> Vec<Line<'static>> {
    let fields = match state.view {
        View::Stores => state
            .overview
            .as_ref()
            .and_then(|o| o.links.get(state.stores_selected))
            .map(|l| link_fields(state, l)),
        View::Pending | View::Missing | View::Stuck | View::Orders => state
            .order_list(state.view)
            .and_then(|list| list.selected_row())
            .map(|r| order_fields(state, r)),
        View::Cancellations => state
            .cancellations
            .selected_row()
            .map(|r| cancellation_fields(state, r)),
        View::Approvals => state
            .approvals
            .selected_row()
            .map(|r| request_fields(state, r)),
        View::Activity => state.activity.selected_row().map(activity_fields),
        View::Settings => None,
    };
    let Some(fields) = fields else {
        return Vec::new();
    };
    let room = usize::from(width).saturating_sub(LABEL + 4).max(10);
    let mut out = Vec::new();
    for (label, value) in fields {
        for (i, part) in wrap(&clean(&value), room).into_iter().enumerate() {
            let label = if i == 0 { label } else { "" };
            out.push(Line::from(vec![
                Span::styled(format!(" {label:<LABEL$}"), state.theme.muted),
                Span::raw(part),
            ]));
        }
    }
    out
}

type Fields = Vec<(&'static str, String)>;

fn opt(value: Option<&str>) -> String {
    value.unwrap_or("—").to_string()
}

fn order_fields(state: &State, r: &OrderRow) -> Fields {
    let now = state.now;
    let when = |at: Option<crate::domain::Timestamp>| {
        at.map_or("—".to_string(), |t| {
            format!("{} ({})", full_stamp(t), ago(now, t))
        })
    };
    vec![
        ("Order", r.id.to_string()),
        ("Link", r.link.to_string()),
        (
            "TikTok status",
            format!("{} · {} ships", r.tiktok_status, r.shipping_type),
        ),
        ("Created", when(Some(r.created_at))),
        ("Paid", when(r.paid_at)),
        (
            "Ship by",
            r.ship_by.map_or("—".into(), |t| {
                format!("{} ({})", full_stamp(t), left(now, t))
            }),
        ),
        ("Store order", opt(r.store_order.as_deref())),
        ("Store status", opt(r.store_status.as_deref())),
        (
            "Flows",
            format!(
                "import {} · tracking {} · cancellation {} · label {}",
                r.flows[0], r.flows[1], r.flows[2], r.flows[3]
            ),
        ),
        ("Why", r.why.clone()),
        ("Store side", opt(r.knowledge.map(|k| k.describe()))),
        ("SKUs", r.skus.clone()),
        ("Buyer", r.buyer.clone()),
        ("Total", r.total.clone()),
    ]
}

fn cancellation_fields(state: &State, r: &CancellationRow) -> Fields {
    let deadline = r.seller_deadline.map_or("—".into(), |t| {
        format!("{} ({})", full_stamp(t), left(state.now, t))
    });
    vec![
        ("Cancellation", r.key.to_string()),
        ("Order", r.order_id.to_string()),
        ("Link", r.link.to_string()),
        ("Direction", r.direction.clone()),
        ("By", r.initiator.clone()),
        ("TikTok status", opt(r.tiktok_status.as_deref())),
        ("Answer by", deadline),
        ("Sync", r.sync.clone()),
        ("Reason", r.reason.clone()),
    ]
}

fn request_fields(state: &State, r: &ResyncRequest) -> Fields {
    let targets: Vec<String> = r.targets.iter().map(ToString::to_string).collect();
    let by = match r.requested_by.role {
        Some(role) => format!("{} ({role})", r.requested_by.user),
        None => r.requested_by.user.clone(),
    };
    vec![
        ("Request", r.id.to_string()),
        ("Flow", r.flow.name().to_string()),
        ("Asked by", by),
        (
            "Asked",
            format!(
                "{} ({})",
                full_stamp(r.requested_at),
                ago(state.now, r.requested_at)
            ),
        ),
        (
            "Targets",
            format!("{} ({})", targets.join(", "), targets.len()),
        ),
        ("Reason", r.reason.clone()),
    ]
}

fn activity_fields(r: &ActivityItem) -> Fields {
    vec![
        ("When", full_stamp(r.at)),
        ("Who", format!("{} ({})", r.who, r.source)),
        ("Level", r.level.to_string()),
        ("Link", opt(r.link.as_ref().map(|l| l.as_str()))),
        ("Order", opt(r.order.as_ref().map(|o| o.as_str()))),
        ("What happened", r.text.clone()),
    ]
}

fn link_fields(state: &State, l: &LinkHealth) -> Fields {
    let now = state.now;
    let (token, _) = expiry(now, l.access_expires_at);
    let (auth, _) = expiry(now, l.authorization_expires_at);
    let c = l.counts;
    vec![
        ("Link", l.link.to_string()),
        ("TikTok shop", format!("{} · region {}", l.shop, l.region)),
        ("Store", format!("{} {}", l.platform, l.store)),
        (
            "Last good poll",
            l.last_poll_ok.map_or("never".into(), |t| {
                format!("{} ({})", full_stamp(t), ago(now, t))
            }),
        ),
        ("Last poll error", opt(l.last_poll_error.as_deref())),
        (
            "Webhooks",
            webhooks(now, l).unwrap_or_else(|| "none since the daemon started".into()),
        ),
        ("Errors (1h)", l.errors_last_hour.to_string()),
        (
            "Queue",
            format!("{} queued · {} stuck", l.queue_depth, l.stuck_jobs),
        ),
        ("Access token", token),
        ("Authorization", auth),
        (
            "Lists",
            format!(
                "{} pending · {} missing tracking · {} stuck · {} cancellations waiting · {} orders",
                c.pending, c.missing_tracking, c.stuck, c.cancellations_waiting, c.all
            ),
        ),
    ]
}
