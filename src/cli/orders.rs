//! `orderdeck orders`: which list to print (pending, missing tracking, cancellations, stuck,
//! all) and for which link; the listing itself is in `commands`.

use clap::{Args, ValueEnum};

use crate::config::Config;
use crate::domain::ids::LinkId;
use crate::domain::triage::OrderView;

#[derive(Debug, Clone, Args)]
pub struct OrdersArgs {
    /// Which list
    #[arg(long, value_enum, default_value_t = OrdersView::All)]
    pub view: OrdersView,
    /// Only this link's orders
    #[arg(long, value_name = "L")]
    pub link: Option<LinkId>,
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

/// The lists of the console's order views, as `--view` spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OrdersView {
    /// Paid orders not in the store yet, and why
    Pending,
    /// Seller-shipped orders still without tracking, by ship-by deadline
    MissingTracking,
    /// Cancellations and buyer requests waiting for an answer
    Cancellations,
    /// Orders whose sync needs a person
    Stuck,
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
            "no link is named {link:?}; links in {}: {}",
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
