//! `orderdeck orders`: which list to print (pending, missing tracking, cancellations, stuck,
//! all), for which link, filtered and sorted as the console does it, and how many; the listing
//! itself is in `commands`.

use clap::builder::TypedValueParser;
use clap::{Args, ValueEnum};

use crate::config::Config;
use crate::domain::ids::LinkId;
use crate::domain::triage::OrderView;
use crate::service::api::{OrderColumn, SortDir};

#[derive(Debug, Clone, Args)]
pub struct OrdersArgs {
    /// Which list
    #[arg(long, value_enum, default_value_t = OrdersView::All)]
    pub view: OrdersView,
    /// Only this link's orders
    #[arg(long, value_name = "L")]
    pub link: Option<LinkId>,
    /// Only the rows matching TEXT, as the console's `/` filter reads it: words and
    /// field:value terms (`buyer:hannah`, `order:#1002`, `tracking:RM123`, `sku:JMP`)
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,
    /// Sort an order list by this column, named as the console's `:sort` names it (by
    /// default, the list's own order)
    #[arg(long, value_name = "COLUMN", value_parser = sort_column())]
    pub sort: Option<OrderColumn>,
    /// The other way round: largest first with --sort, else the list's own order reversed
    #[arg(long)]
    pub desc: bool,
    /// At most N rows (a store of a million orders lists them all otherwise)
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

impl OrdersArgs {
    /// The order and direction asked for.
    pub fn sorting(&self) -> (OrderColumn, SortDir) {
        let column = self.sort.unwrap_or(OrderColumn::Default);
        let dir = if self.desc {
            SortDir::Desc
        } else {
            SortDir::Asc
        };
        (column, dir)
    }
}

/// `--sort`'s names: the console's, for the columns an order list sorts by (each an index of
/// the store, so sorting a million orders by any of them is a range scan).
fn sort_column() -> impl TypedValueParser<Value = OrderColumn> {
    let names: Vec<&'static str> = crate::console::command::order_column_names().collect();
    clap::builder::PossibleValuesParser::new(names).map(|name: String| {
        crate::console::command::column_named(&name).unwrap_or(OrderColumn::Default)
    })
}

/// The lists of the console's order views, as `--view` spells them. The console's names for
/// the same lists are accepted too (`missing`, `cancels`), so a name works in both places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OrdersView {
    /// Paid orders not in the store yet, and why
    Pending,
    /// Seller-shipped orders still without tracking, by ship-by deadline
    #[value(alias = "missing", alias = "tracking")]
    MissingTracking,
    /// Cancellations and buyer requests waiting for an answer
    #[value(alias = "cancels", alias = "cancel")]
    Cancellations,
    /// Orders whose sync needs a person
    Stuck,
    /// Parcels the store shipped before TikTok cancelled: stop them or expect them back
    Parcels,
    /// Every order, newest first
    All,
}

impl OrdersView {
    /// The triage index this list reads; cancellations are a list of their own, not an order view.
    pub fn order_view(self) -> Option<OrderView> {
        match self {
            OrdersView::Pending => Some(OrderView::Pending),
            OrdersView::MissingTracking => Some(OrderView::MissingTracking),
            OrdersView::Stuck => Some(OrderView::Stuck),
            OrdersView::Parcels => Some(OrderView::Parcels),
            OrdersView::All => Some(OrderView::All),
            OrdersView::Cancellations => None,
        }
    }
}

/// Refuses a `--link` the config does not name, listing the ones it does.
pub fn check_link(config: &Config, link: Option<&LinkId>) -> anyhow::Result<()> {
    if let Some(link) = link
        && config.link(link).is_none()
    {
        let names: Vec<&str> = config.links.iter().map(|l| l.name.as_str()).collect();
        anyhow::bail!(
            "no link is named \"{link}\"; links in {}: {}",
            config.source.display(),
            names.join(", ")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::ValueEnum;

    use super::*;

    /// The console's view for a list, where it has one.
    fn console_view(view: OrdersView) -> Option<crate::console::View> {
        use crate::console::View;
        match view {
            OrdersView::Pending => Some(View::Pending),
            OrdersView::MissingTracking => Some(View::Missing),
            OrdersView::Cancellations => Some(View::Cancellations),
            OrdersView::Stuck => Some(View::Stuck),
            OrdersView::All => Some(View::Orders),
            OrdersView::Parcels => None,
        }
    }

    #[test]
    fn the_console_and_the_cli_accept_the_same_view_names() {
        let console_names = [
            "pending",
            "missing",
            "missing-tracking",
            "tracking",
            "cancellations",
            "cancels",
            "cancel",
            "stuck",
            "all",
        ];
        for name in console_names {
            let console = crate::console::View::parse(name).expect("the console knows it");
            let cli = OrdersView::from_str(name, false)
                .unwrap_or_else(|e| panic!("orders --view {name}: {e}"));
            assert_eq!(console_view(cli), Some(console), "{name}");
        }
        for view in OrdersView::value_variants() {
            let value = view.to_possible_value().expect("listed");
            for name in value.get_name_and_aliases() {
                if let Some(console) = console_view(*view) {
                    assert_eq!(crate::console::View::parse(name), Some(console), "{name}");
                }
            }
        }
    }

    #[test]
    fn sort_takes_the_consoles_column_names_and_only_an_order_lists() {
        #[derive(clap::Parser)]
        struct Line {
            #[command(flatten)]
            args: OrdersArgs,
        }
        let sort = |name: &str| {
            <Line as clap::Parser>::try_parse_from(["orders", "--sort", name])
                .map(|line| line.args.sorting().0)
        };
        assert_eq!(sort("store").unwrap(), OrderColumn::StoreOrder);
        assert_eq!(sort("ship-by").unwrap(), OrderColumn::ShipBy);
        assert_eq!(sort("store-side").unwrap(), OrderColumn::StorefrontSide);
        let refused = sort("answer-by").unwrap_err().to_string();
        assert!(
            refused.contains("buyer"),
            "lists the names it takes: {refused}"
        );
    }

    #[test]
    fn an_unknown_link_is_named_as_typed() {
        let config = crate::config::Config::parse(
            "[access]\n",
            std::path::Path::new("od.toml"),
            0o600,
            &crate::config::Environment {
                data_dir: Some("/data".into()),
                ..crate::config::Environment::default()
            },
        );
        let config = config.expect("an empty config loads");
        let link = LinkId::new("gb").unwrap();
        let error = check_link(&config, Some(&link)).unwrap_err().to_string();
        assert!(error.starts_with("no link is named \"gb\";"), "{error}");
        assert!(!error.contains("LinkId"), "{error}");
    }

    #[test]
    fn views_are_spelled_like_the_triage_views() {
        for view in OrdersView::value_variants() {
            let spelled = view.to_possible_value().unwrap();
            if let Some(order_view) = view.order_view() {
                assert_eq!(spelled.get_name(), order_view.name());
            }
        }
    }
}
