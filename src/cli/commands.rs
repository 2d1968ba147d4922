//! The scriptable commands, each a request to the service (daemon or in-process) printed as a
//! table for people or as JSON for scripts (`--json`; the shapes are documented in the README
//! and stay stable). Output is written with `writeln!` and its errors returned, so a reader
//! that goes away ends the command quietly (see `output`); it is written after the last await,
//! in one go. Text from platforms may reach here raw: everything is printed through `output`
//! (`stdout()`, `warn`, tables, JSON), which sanitizes it whatever it holds.

use std::io::Write;

use anyhow::Context;

use crate::domain::ids::RequestId;
use crate::domain::request::RequestStatus;
use crate::domain::store_order::show_units;
use crate::service::api::*;
use crate::service::client::Client;

use super::args::{
    AuditArgs, HandledArgs, LabelArgs, OrderArgs, RejectArgs, RequestsArgs, ResyncArgs,
    SettingsCommand, Since,
};
use super::orders::OrdersArgs;
use super::output::{Table, print_json, print_json_lines, stdout, warn, when};

async fn call(client: &dyn Client, request: Request) -> anyhow::Result<Response> {
    client.call(request).await.map_err(anyhow::Error::from)
}

macro_rules! expect {
    ($response:expr, $variant:ident) => {
        match $response {
            Response::$variant(inner) => inner,
            other => return Err(unexpected(&other)),
        }
    };
}

/// An answer of the wrong kind, named by its kind (never dumped as Rust debug text).
fn unexpected(response: &Response) -> anyhow::Error {
    anyhow::anyhow!(
        "the service answered with an unexpected {:?} response",
        response.kind()
    )
}

/// Printed after a change that queued jobs when no daemon runs: nothing runs them until then.
const NO_DAEMON_NOTE: &str = "no daemon is running: the job(s) run at the next \
                              `orderdeck sync --once` (or once `orderdeck serve` starts)";

pub async fn sync_once(client: &dyn Client, in_process: bool) -> anyhow::Result<()> {
    let summary = expect!(call(client, Request::SyncNow { link: None }).await?, Sync);
    for error in &summary.poll_errors {
        warn(format_args!(
            "poll failed: {}",
            crate::domain::text::sanitize(error)
        ));
    }
    let mut out = stdout();
    writeln!(
        out,
        "{} link(s): {} order update(s), {} cancellation(s), {} store change(s) seen",
        summary.links, summary.orders_seen, summary.cancellations_seen, summary.store_changes_seen
    )?;
    if in_process {
        writeln!(
            out,
            "jobs: {} run, {} done, {} stuck, {} still waiting (retrying later)",
            summary.jobs_run, summary.jobs_done, summary.jobs_stuck, summary.jobs_waiting
        )?;
    } else {
        // The daemon polled; its own job runner runs what the poll queued.
        writeln!(
            out,
            "jobs: {} waiting; the daemon runs them (watch with `orderdeck orders`)",
            summary.jobs_waiting
        )?;
    }
    if summary.jobs_stuck > 0 {
        writeln!(
            out,
            "stuck orders need a person: `orderdeck orders --view stuck`"
        )?;
    }
    // A timer running `sync --once` must see a failed poll: its window is retried next time,
    // but nothing new came from that link this time.
    if !summary.poll_errors.is_empty() {
        anyhow::bail!(
            "{} poll(s) failed (listed above); the next sync retries them from the same place",
            summary.poll_errors.len()
        );
    }
    Ok(())
}

/// Pages through a list until it ends or `limit` rows are in.
async fn all_pages<T>(
    client: &dyn Client,
    limit: Option<usize>,
    mut page: impl FnMut(usize, usize) -> Request,
    pick: impl Fn(Response) -> Option<Paged<T>>,
) -> anyhow::Result<Vec<T>> {
    let wanted = limit.unwrap_or(usize::MAX);
    let mut rows = Vec::new();
    while rows.len() < wanted {
        let asked = (wanted - rows.len()).min(MAX_PAGE);
        let response = call(client, page(rows.len(), asked)).await?;
        let paged = pick(response).context("unexpected answer from the service")?;
        let got = paged.rows.len();
        rows.extend(paged.rows);
        // A filtered page whose count is still to come has a total that only says how far
        // the service read: it is full, and the list goes on.
        let ended = !paged.counting && rows.len() >= paged.total;
        if got == 0 || ended {
            break;
        }
    }
    Ok(rows)
}

pub async fn orders(client: &dyn Client, args: &OrdersArgs) -> anyhow::Result<()> {
    let Some(view) = args.view.order_view() else {
        if args.sort.is_some() || args.desc {
            anyhow::bail!(
                "--sort and --desc sort order lists; cancellations come soonest deadline first"
            );
        }
        let rows = all_pages(
            client,
            args.limit,
            |offset, limit| {
                Request::Cancellations(CancellationQuery {
                    link: args.link.clone(),
                    filter: args.filter.clone(),
                    waiting_only: false,
                    offset,
                    limit,
                    sort: Default::default(),
                })
            },
            |r| {
                if let Response::Cancellations(p) = r {
                    Some(p)
                } else {
                    None
                }
            },
        )
        .await?;
        if args.json {
            return print_json(&rows);
        }
        let mut table = Table::new([
            "ORDER",
            "LINK",
            "DIRECTION",
            "BY",
            "TIKTOK STATUS",
            "DEADLINE",
            "SYNC",
            "REASON",
        ]);
        for r in &rows {
            table.row([
                r.order_id.to_string(),
                r.link.to_string(),
                r.direction.clone(),
                r.initiator.clone(),
                r.tiktok_status.clone().unwrap_or_default(),
                when(r.seller_deadline),
                r.sync.clone(),
                r.reason.clone(),
            ]);
        }
        return table.print(&format!("{} cancellation(s)", rows.len()));
    };
    let (sort, dir) = args.sorting();
    let rows = all_pages(
        client,
        args.limit,
        |offset, limit| {
            Request::Orders(OrderQuery {
                view,
                link: args.link.clone(),
                filter: args.filter.clone(),
                sort,
                dir,
                offset,
                limit,
            })
        },
        |r| {
            if let Response::Orders(p) = r {
                Some(p)
            } else {
                None
            }
        },
    )
    .await?;
    let caption = format!("{} order(s) in {}", rows.len(), view.name());
    print_order_rows(&rows, args.json, &caption, sort)
}

/// The column a table of orders adds when sorted by what it does not otherwise show.
type SortedColumn = (&'static str, fn(&OrderRow) -> String);

fn sorted_column(column: OrderColumn) -> Option<SortedColumn> {
    let cell: SortedColumn = match column {
        OrderColumn::Created => ("CREATED", |r| when(Some(r.created_at))),
        OrderColumn::Paid => ("PAID", |r| when(r.paid_at)),
        OrderColumn::Skus => ("SKUS", |r| r.skus.clone()),
        OrderColumn::Buyer => ("BUYER", |r| r.buyer.clone()),
        _ => return None,
    };
    Some(cell)
}

/// Order rows as JSON or as a table with `caption` under it; sorted by a column the table
/// does not show, it shows that one too (before WHY).
fn print_order_rows(
    rows: &[OrderRow],
    json: bool,
    caption: &str,
    sort: OrderColumn,
) -> anyhow::Result<()> {
    if json {
        return print_json(&rows);
    }
    let sorted = sorted_column(sort);
    let mut table = Table::new(
        [
            "ORDER", "LINK", "TIKTOK", "SHIP BY", "STORE",
            // A column each: joined, "done/n/a/-/wait" read as five flows.
            "IMPORT", "TRACKING", "CANCEL", "LABEL",
        ]
        .into_iter()
        .chain(sorted.map(|(header, _)| header))
        .chain(["WHY"]),
    );
    for r in rows {
        let [import, tracking, cancel, label] = r.flows.clone();
        table.row(
            [
                r.id.to_string(),
                r.link.to_string(),
                r.tiktok_status.clone(),
                when(r.ship_by),
                r.store_order.clone().unwrap_or_else(|| "-".into()),
                import,
                tracking,
                cancel,
                label,
            ]
            .into_iter()
            .chain(sorted.map(|(_, cell)| cell(r)))
            .chain([r.why.clone()]),
        );
    }
    table.print(caption)
}

/// One order, named by its TikTok id or by the number its store gave it (what a customer
/// quotes): one number in several stores is listed, for the caller to pick one by its id.
pub async fn order(client: &dyn Client, args: &OrderArgs) -> anyhow::Result<()> {
    let typed = crate::domain::text::sanitize(&args.order);
    let request = Request::FindOrder {
        text: args.order.clone(),
    };
    let found = expect!(call(client, request).await?, Orders);
    let id = match found.rows.as_slice() {
        [one] => one.id.clone(),
        [] => anyhow::bail!(
            "no order is named {typed:?}: it is neither a TikTok order id nor a store order \
             number in orderdeck's store"
        ),
        several => {
            // Listed as `orders` lists them (JSON too), and a failure: no one order was shown.
            let caption = format!("{} orders are named {typed:?}", several.len());
            print_order_rows(several, args.json, &caption, OrderColumn::Default)?;
            anyhow::bail!(
                "{typed:?} names {} orders (one number in several stores): give one's TikTok id",
                several.len()
            )
        }
    };
    let detail = expect!(call(client, Request::Order { id }).await?, Order);
    if args.json {
        return print_json(&detail);
    }
    print_order(&mut stdout(), &detail)
}

/// One order for a person: both sides, the flows, the diagnosis and the timeline.
fn print_order(out: &mut impl Write, detail: &OrderDetail) -> anyhow::Result<()> {
    let sanitize = crate::domain::text::sanitize;
    let o = &detail.order;
    writeln!(
        out,
        "order {}  link {}  (TikTok Shop → {})",
        o.id, o.link, detail.platform
    )?;
    writeln!(
        out,
        "TikTok: {}  shipping {}  ship by {}  total {} {}",
        o.tiktok.status,
        o.tiktok.shipping_type,
        when(o.tiktok.ship_by),
        o.tiktok.total_amount,
        o.tiktok.currency
    )?;
    for line in &o.tiktok.lines {
        writeln!(
            out,
            "  {} × {}  {}",
            line.quantity,
            line.seller_sku,
            sanitize(&line.product_name)
        )?;
    }
    match &o.store {
        Some(s) => writeln!(
            out,
            "store: {} ({})  {} fulfillment(s)",
            s.name.as_deref().unwrap_or(s.order_id.as_str()),
            s.status,
            s.fulfillments.len()
        )?,
        None => writeln!(out, "store: not in the store")?,
    }
    for package in &o.pushed_packages {
        writeln!(
            out,
            "  package {}  {} ({})  {}",
            package.package_id.as_ref().map_or("-", |p| p.as_str()),
            sanitize(&package.tracking_number),
            sanitize(&package.provider),
            show_units(&o.tiktok.units_of(&package.line_item_ids))
        )?;
    }
    let f = &o.flows;
    writeln!(
        out,
        "flows: import {}  tracking {}  cancellation {}  label {}",
        word(&f.import),
        word(&f.tracking),
        word(&f.cancellation),
        word(&f.label)
    )?;
    for line in &detail.diagnosis {
        writeln!(out, "  {}", sanitize(line))?;
    }
    writeln!(out, "timeline:")?;
    for entry in &o.timeline {
        writeln!(
            out,
            "  {}  {}",
            entry.at.format("%Y-%m-%d %H:%M:%S"),
            sanitize(&entry.text)
        )?;
    }
    if !detail.actions.is_empty() {
        writeln!(out, "you may: {}", detail.actions.join(", "))?;
    }
    Ok(())
}

fn word(state: &crate::domain::order::FlowState) -> &'static str {
    crate::domain::listing::flow_word(state)
}

pub async fn resync(
    client: &dyn Client,
    args: &ResyncArgs,
    in_process: bool,
) -> anyhow::Result<()> {
    let request = Request::Resync {
        orders: args.orders.clone(),
        flow: args.flow,
        reason: args.reason.clone(),
    };
    let outcome = expect!(call(client, request).await?, Resync);
    let mut out = stdout();
    if outcome.running {
        let jobs: Vec<String> = outcome.jobs.iter().map(ToString::to_string).collect();
        writeln!(
            out,
            "request {} approved and running: job(s) {}",
            outcome.request,
            if jobs.is_empty() {
                "none needed".into()
            } else {
                jobs.join(", ")
            }
        )?;
        if in_process && !outcome.jobs.is_empty() {
            writeln!(out, "{NO_DAEMON_NOTE}")?;
        }
    } else {
        writeln!(
            out,
            "request {} waits for an operator (`orderdeck approve {}`)",
            outcome.request, outcome.request
        )?;
    }
    Ok(())
}

pub async fn requests(client: &dyn Client, args: &RequestsArgs) -> anyhow::Result<()> {
    let rows = all_pages(
        client,
        None,
        |offset, limit| {
            Request::Requests(RequestQuery {
                pending_only: true,
                offset,
                limit,
                sort: Default::default(),
            })
        },
        |r| {
            if let Response::Requests(p) = r {
                Some(p)
            } else {
                None
            }
        },
    )
    .await?;
    if args.json {
        return print_json(&rows);
    }
    let mut table = Table::new(["REQUEST", "FLOW", "ORDERS", "BY", "AT", "REASON"]);
    for r in &rows {
        let status = match &r.status {
            RequestStatus::Pending => "",
            _ => " (decided)",
        };
        table.row([
            format!("{}{status}", r.id),
            r.flow.name().into(),
            r.targets
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" "),
            r.requested_by.user.clone(),
            when(Some(r.requested_at)),
            crate::domain::text::sanitize(&r.reason),
        ]);
    }
    table.print(&format!("{} request(s) waiting for a decision", rows.len()))
}

pub async fn decide(
    client: &dyn Client,
    request: RequestId,
    approve: bool,
    reason: Option<String>,
    in_process: bool,
) -> anyhow::Result<()> {
    let answer = call(
        client,
        Request::Decide {
            request,
            approve,
            reason,
        },
    )
    .await?;
    let Response::Done { message } = answer else {
        return Err(unexpected(&answer));
    };
    let mut out = stdout();
    writeln!(out, "{}", crate::domain::text::sanitize(&message))?;
    if approve && in_process {
        writeln!(out, "{NO_DAEMON_NOTE}")?;
    }
    Ok(())
}

pub async fn reject(client: &dyn Client, args: &RejectArgs) -> anyhow::Result<()> {
    decide(
        client,
        args.request,
        false,
        Some(args.reason.clone()),
        false,
    )
    .await
}

pub async fn handled(client: &dyn Client, args: &HandledArgs) -> anyhow::Result<()> {
    let response = call(
        client,
        Request::MarkParcelHandled {
            order: args.order.clone(),
            outcome: args.outcome,
            note: args.note.clone(),
        },
    )
    .await?;
    let Response::Done { message } = response else {
        return Err(unexpected(&response));
    };
    writeln!(stdout(), "{message}")?;
    Ok(())
}

pub async fn label(client: &dyn Client, args: &LabelArgs) -> anyhow::Result<()> {
    let response = call(
        client,
        Request::ReprintLabel {
            order: args.order.clone(),
            print: args.print,
        },
    )
    .await?;
    let Response::Label { path, printed } = response else {
        return Err(unexpected(&response));
    };
    let saved = match &args.out {
        Some(out) => {
            std::fs::copy(&path, out).with_context(|| {
                format!("cannot copy the label from {path} to {}", out.display())
            })?;
            out.display().to_string()
        }
        None => path,
    };
    let mut out = stdout();
    writeln!(out, "label saved to {saved}")?;
    if printed {
        writeln!(out, "label sent to the printer")?;
    } else if args.print {
        warn("not printed: no [paths] label_print_command is configured");
    }
    Ok(())
}

pub async fn settings(
    client: &dyn Client,
    command: &SettingsCommand,
    links: Vec<crate::domain::ids::LinkId>,
) -> anyhow::Result<()> {
    match command {
        SettingsCommand::Show { link } => {
            let links = link.clone().map(|l| vec![l]).unwrap_or(links);
            let mut views = Vec::new();
            for link in links {
                views.push(expect!(
                    call(client, Request::Settings { link }).await?,
                    Settings
                ));
            }
            let mut out = stdout();
            for view in views {
                writeln!(
                    out,
                    "[{}] ({}, version {})",
                    view.link, view.platform, view.version
                )?;
                for (key, value, description) in &view.fields {
                    writeln!(
                        out,
                        "  {key:<24} {:<34} {description}",
                        if value.is_empty() { "-" } else { value }
                    )?;
                }
            }
            Ok(())
        }
        SettingsCommand::Set { link, key, value } => {
            let current = expect!(
                call(client, Request::Settings { link: link.clone() }).await?,
                Settings
            );
            let request = Request::SetSettings {
                link: link.clone(),
                changes: vec![(key.name().to_string(), value.clone())],
                expected_version: current.version,
                reason: None,
            };
            let view = expect!(call(client, request).await?, Settings);
            writeln!(
                stdout(),
                "{link}: {key} = {} (version {})",
                view.settings.value_text(*key),
                view.version
            )?;
            Ok(())
        }
    }
}

pub async fn audit(client: &dyn Client, args: &AuditArgs) -> anyhow::Result<()> {
    let since = args.since.map(|s| match s {
        Since::At(at) => at,
        Since::Ago(d) => chrono::Utc::now() - chrono::Duration::from_std(d).unwrap_or_default(),
    });
    let rows = all_pages(
        client,
        None,
        |offset, limit| {
            Request::Audit(AuditQuery {
                since,
                filter: None,
                offset,
                limit,
                sort: Default::default(),
            })
        },
        |r| {
            if let Response::Audit(p) = r {
                Some(p)
            } else {
                None
            }
        },
    )
    .await?;
    if args.json {
        return print_json_lines(&rows);
    }
    let mut table = Table::new([
        "AT", "WHO", "FROM", "ACTION", "TARGETS", "OUTCOME", "REASON",
    ]);
    for e in &rows {
        let outcome = match &e.outcome {
            crate::domain::audit::AuditOutcome::Ok { detail } => format!(
                "ok{}",
                detail
                    .as_deref()
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default()
            ),
            crate::domain::audit::AuditOutcome::Refused { why } => format!("refused: {why}"),
            crate::domain::audit::AuditOutcome::Failed { error } => format!("failed: {error}"),
        };
        // SSH_CONNECTION is "client-ip client-port server-ip server-port": the client is
        // what a reader wants; --json has the whole value.
        let from = e
            .actor
            .from
            .as_deref()
            .and_then(|f| f.split_whitespace().next())
            .unwrap_or("-");
        let sanitize = crate::domain::text::sanitize;
        table.row([
            when(Some(e.at)),
            format!("{} ({})", sanitize(&e.actor.user), e.actor.uid),
            sanitize(from),
            e.action.clone(),
            sanitize(&e.targets.join(" ")),
            sanitize(&outcome),
            sanitize(e.reason.as_deref().unwrap_or_default()),
        ]);
    }
    table.print(&format!(
        "{} audit entr{}",
        rows.len(),
        if rows.len() == 1 { "y" } else { "ies" }
    ))
}

#[cfg(test)]
mod tests {
    use async_trait::async_trait;
    use tokio::sync::broadcast;

    use super::*;
    use crate::cli::history::History;
    use crate::domain::clock::from_unix;
    use crate::domain::ids::LinkId;
    use crate::domain::triage::OrderView;
    use crate::service::client::ClientEvent;

    /// A filtered order list as the service pages it: a page that fills before the list's end
    /// is marked `counting`, its total only how far the service read.
    struct Filtered {
        rows: Vec<OrderRow>,
    }

    #[async_trait]
    impl Client for Filtered {
        async fn call(&self, request: Request) -> Result<Response, ServiceError> {
            let Request::Orders(query) = request else {
                panic!("only order pages are asked for: {request:?}");
            };
            let start = query.offset.min(self.rows.len());
            let end = (start + query.limit).min(self.rows.len());
            let filled_before_the_end = end - start == query.limit && end < self.rows.len();
            Ok(Response::Orders(Paged {
                total: if filled_before_the_end {
                    end
                } else {
                    self.rows.len()
                },
                offset: start,
                rows: self.rows[start..end].to_vec(),
                counting: filled_before_the_end,
            }))
        }

        fn events(&self) -> broadcast::Receiver<ClientEvent> {
            broadcast::channel(1).1
        }
    }

    async fn listed(client: &Filtered, limit: Option<usize>) -> Vec<OrderRow> {
        let page = |offset, limit| {
            Request::Orders(OrderQuery {
                offset,
                limit,
                filter: Some("demir".into()),
                ..OrderQuery::first_page(OrderView::All, limit)
            })
        };
        let pick = |r| match r {
            Response::Orders(p) => Some(p),
            _ => None,
        };
        all_pages(client, limit, page, pick).await.expect("listed")
    }

    #[tokio::test]
    async fn a_filtered_list_pages_past_a_total_still_being_counted_and_stops_at_the_limit() {
        let history = History {
            links: vec![LinkId::new("uk").unwrap()],
            count: 1_200,
            end: from_unix(1_800_000_000),
        };
        let rows = (0..history.count)
            .map(|n| {
                let order = history.order(n).unwrap();
                crate::service::rows::order_row(&order, OrderView::All, history.end)
            })
            .collect();
        let client = Filtered { rows };
        assert_eq!(listed(&client, None).await, client.rows, "all three pages");
        assert_eq!(listed(&client, Some(700)).await, client.rows[..700]);
        assert_eq!(listed(&client, Some(0)).await, []);
    }
}
