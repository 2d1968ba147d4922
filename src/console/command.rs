//! `:` commands: parsing and completion, as pure functions. Each command says which actions
//! it reaches, so a test can check that every action has a key or a command. The typo finder
//! used by command and keymap errors lives here too.

use crate::domain::ids::LinkId;
use crate::domain::spelling::did_you_mean;
use crate::service::api::{OrderColumn, SortDir};

use super::action::Action;
use super::state::View;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Run(Action),
    View(View),
    /// Open the order named so: a TikTok order id or a store order number (`#1002`), as typed.
    Order(String),
    /// Narrow the lists to one link, or widen them to all.
    Link(Option<LinkId>),
    Sort(OrderColumn, Option<SortDir>),
    Filter(String),
    Settings(Option<LinkId>),
    Sync(Option<LinkId>),
}

pub struct CommandSpec {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub args: &'static str,
    pub help: &'static str,
    pub reaches: &'static [Action],
}

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "quit",
        aliases: &["q", "q!", "exit"],
        args: "",
        help: "leave the console",
        reaches: &[Action::Quit],
    },
    CommandSpec {
        name: "view",
        aliases: &[],
        args: "NAME",
        help: "switch view (stores pending missing stuck cancellations approvals activity settings orders)",
        reaches: &[
            Action::ViewStores,
            Action::ViewPending,
            Action::ViewMissing,
            Action::ViewStuck,
            Action::ViewCancellations,
            Action::ViewApprovals,
            Action::ViewActivity,
            Action::ViewSettings,
            Action::ViewOrders,
        ],
    },
    CommandSpec {
        name: "order",
        aliases: &["o"],
        args: "ID|#NUMBER",
        help: "open an order's detail by its TikTok id or its store order number (#1002)",
        reaches: &[Action::Open],
    },
    CommandSpec {
        name: "link",
        aliases: &[],
        args: "[NAME]",
        help: "show only this link's rows (no name: every link)",
        reaches: &[],
    },
    CommandSpec {
        name: "settings",
        aliases: &[],
        args: "[LINK]",
        help: "open the settings of a link",
        reaches: &[Action::EditSettings, Action::ViewSettings],
    },
    CommandSpec {
        name: "sort",
        aliases: &[],
        args: "COLUMN [asc|desc]",
        help: "sort the list by a column it shows (Tab lists them; default: its own order)",
        reaches: &[Action::SortNext, Action::SortReverse],
    },
    CommandSpec {
        name: "filter",
        aliases: &["f"],
        args: "TEXT",
        help: "filter the list (store:uk status:stuck text)",
        reaches: &[Action::Filter],
    },
    CommandSpec {
        name: "follow",
        aliases: &[],
        args: "",
        help: "follow new activity",
        reaches: &[Action::Follow],
    },
    CommandSpec {
        name: "sync",
        aliases: &[],
        args: "[LINK]",
        help: "poll the platforms now",
        reaches: &[Action::SyncNow],
    },
    CommandSpec {
        name: "refresh",
        aliases: &["r"],
        args: "",
        help: "ask the service again for what is shown",
        reaches: &[Action::Refresh],
    },
    CommandSpec {
        name: "redraw",
        aliases: &[],
        args: "",
        help: "repaint the whole screen",
        reaches: &[Action::Redraw],
    },
    CommandSpec {
        name: "messages",
        aliases: &["msgs", "log"],
        args: "",
        help: "every message and error of this session, whole",
        reaches: &[Action::Messages],
    },
    CommandSpec {
        name: "dismiss",
        aliases: &[],
        args: "",
        help: "dismiss messages",
        reaches: &[Action::DismissToasts],
    },
    CommandSpec {
        name: "help",
        aliases: &["h"],
        args: "",
        help: "show keys and commands",
        reaches: &[Action::Help],
    },
];

/// How `:sort` names each column a list can be sorted by.
const SORT_COLUMNS: &[(&str, OrderColumn)] = &[
    ("default", OrderColumn::Default),
    ("id", OrderColumn::Id),
    ("link", OrderColumn::Link),
    ("status", OrderColumn::Status),
    ("created", OrderColumn::Created),
    ("ship-by", OrderColumn::ShipBy),
    ("paid", OrderColumn::Paid),
    ("store", OrderColumn::StoreOrder),
    ("why", OrderColumn::Why),
    ("store-side", OrderColumn::StorefrontSide),
    ("skus", OrderColumn::Skus),
    ("buyer", OrderColumn::Buyer),
    ("direction", OrderColumn::Direction),
    ("by", OrderColumn::Initiator),
    ("answer-by", OrderColumn::Deadline),
    ("sync", OrderColumn::Sync),
    ("reason", OrderColumn::Reason),
    ("request", OrderColumn::Request),
    ("asked-by", OrderColumn::Requester),
    ("asked", OrderColumn::Asked),
    ("flow", OrderColumn::Flow),
    ("targets", OrderColumn::Targets),
    ("when", OrderColumn::When),
    ("who", OrderColumn::Who),
    ("what", OrderColumn::Text),
];

/// The column `:sort` (and the CLI's `orders --sort`) names `name`.
pub fn column_named(name: &str) -> Option<OrderColumn> {
    SORT_COLUMNS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, c)| *c)
}

/// The `:sort` names of the columns an order list sorts by (its own order aside).
pub fn order_column_names() -> impl Iterator<Item = &'static str> {
    SORT_COLUMNS
        .iter()
        .filter(|(_, c)| crate::service::sorting::order_sort(*c).is_some())
        .map(|(n, _)| *n)
}

/// The `:sort` name of a column.
pub fn column_name(column: OrderColumn) -> &'static str {
    SORT_COLUMNS
        .iter()
        .find(|(_, c)| *c == column)
        .map_or("default", |(n, _)| n)
}

/// Whether some command reaches `action`.
pub fn reaches(action: Action) -> bool {
    COMMANDS.iter().any(|c| c.reaches.contains(&action))
}

/// What completion can offer besides fixed words.
#[derive(Debug, Clone, Default)]
pub struct Known {
    pub links: Vec<String>,
    /// Order ids on the current page.
    pub orders: Vec<String>,
    /// The columns the current list shows and can sort by (`:sort` offers only these).
    pub sort_columns: Vec<String>,
}

pub fn parse(text: &str) -> Result<Command, String> {
    let mut words = text.split_whitespace();
    let Some(word) = words.next() else {
        return Err("type a command, e.g. :view missing (Tab completes)".into());
    };
    let rest: Vec<&str> = words.collect();
    let arg = rest.first().copied();
    if let Some(view) = View::parse(word) {
        return Ok(Command::View(view));
    }
    let Some(spec) = COMMANDS
        .iter()
        .find(|c| c.name == word || c.aliases.contains(&word))
    else {
        let names: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
        return Err(match did_you_mean(word, names.iter().copied()) {
            Some(name) => format!("unknown command {word:?} (did you mean {name:?}?)"),
            None => format!("unknown command {word:?}; :help lists them"),
        });
    };
    let link = |arg: Option<&str>| {
        arg.filter(|a| *a != "all")
            .map(|a| LinkId::new(a).map_err(|e| e.to_string()))
            .transpose()
    };
    Ok(match spec.name {
        "view" => {
            let name = arg.ok_or("which view? :view missing, :view stores…")?;
            Command::View(View::parse(name).ok_or_else(|| format!("no view called {name:?}"))?)
        }
        "order" => {
            let named = arg.ok_or("which order? :order 576461413038785752, or :order #1002")?;
            if rest.len() > 1 {
                return Err(format!(
                    "one order at a time: {:?} is a TikTok id or a store order number",
                    rest.join(" ")
                ));
            }
            Command::Order(named.to_string())
        }
        "link" => Command::Link(link(arg)?),
        "settings" => Command::Settings(link(arg)?),
        "sync" => Command::Sync(link(arg)?),
        "sort" => {
            let name = arg.unwrap_or("default");
            let column = column_named(name).ok_or_else(|| {
                let names: Vec<&str> = SORT_COLUMNS.iter().map(|(n, _)| *n).collect();
                format!("cannot sort by {name:?}; columns: {}", names.join(" "))
            })?;
            let dir = match rest.get(1).copied() {
                None => None,
                Some("asc") => Some(SortDir::Asc),
                Some("desc") => Some(SortDir::Desc),
                Some(other) => return Err(format!("{other:?} is not asc or desc")),
            };
            Command::Sort(column, dir)
        }
        "filter" => Command::Filter(rest.join(" ")),
        name => spec
            .reaches
            .first()
            .map(|action| Command::Run(*action))
            .ok_or_else(|| format!(":{name} does nothing yet"))?,
    })
}

/// Candidates for the word being typed at the end of `text`.
pub fn complete(text: &str, known: &Known) -> Vec<String> {
    let words: Vec<&str> = text.split(' ').collect();
    let typing = words.last().copied().unwrap_or("");
    let pool: Vec<String> = match words.as_slice() {
        [_] => COMMANDS
            .iter()
            .map(|c| c.name.to_string())
            .chain(View::ALL.iter().map(|v| v.name().to_string()))
            .collect(),
        [command, _] => match *command {
            "view" => View::ALL.iter().map(|v| v.name().to_string()).collect(),
            "link" | "settings" | "sync" => known.links.clone(),
            "order" | "o" => known.orders.clone(),
            "sort" => known.sort_columns.clone(),
            _ => Vec::new(),
        },
        ["sort", _, _] => vec!["asc".into(), "desc".into()],
        _ => Vec::new(),
    };
    let mut out: Vec<String> = pool.into_iter().filter(|c| c.starts_with(typing)).collect();
    out.sort();
    out.dedup();
    out
}

/// `text` with its last word replaced by `word` (a completion candidate, taken whole).
pub fn replace_last_word(text: &str, word: &str) -> String {
    match text.rfind(' ') {
        Some(i) => format!("{}{word}", &text[..=i]),
        None => word.to_string(),
    }
}

/// `text` with its last word completed as far as the candidates agree; a single candidate is
/// completed fully and followed by a space (unless it is a filter field, `store:`, that waits
/// for its value).
pub fn apply_completion(text: &str, candidates: &[String]) -> String {
    let head = match text.rfind(' ') {
        Some(i) => &text[..=i],
        None => "",
    };
    match candidates {
        [] => text.to_string(),
        [only] if only.ends_with(':') => format!("{head}{only}"),
        [only] => format!("{head}{only} "),
        [first, others @ ..] => {
            let mut common = first.clone();
            for other in others {
                let shared = common
                    .chars()
                    .zip(other.chars())
                    .take_while(|(a, b)| a == b)
                    .count();
                common = common.chars().take(shared).collect();
            }
            let typed = &text[head.len()..];
            if common.len() > typed.len() {
                format!("{head}{common}")
            } else {
                text.to_string()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_their_word() {}

    #[test]
    fn commands_parse() {
        assert_eq!(parse("q"), Ok(Command::Run(Action::Quit)));
        assert_eq!(parse("view missing"), Ok(Command::View(View::Missing)));
        assert_eq!(parse("missing"), Ok(Command::View(View::Missing)));
        assert_eq!(
            parse("order 576461413038785752"),
            Ok(Command::Order("576461413038785752".into()))
        );
        assert_eq!(parse("o #1002"), Ok(Command::Order("#1002".into())));
        assert_eq!(parse("view orders"), Ok(Command::View(View::Orders)));
        assert_eq!(parse("view all"), Ok(Command::View(View::Orders)));
        assert_eq!(parse("link all"), Ok(Command::Link(None)));
        assert_eq!(
            parse("sort ship-by desc"),
            Ok(Command::Sort(OrderColumn::ShipBy, Some(SortDir::Desc)))
        );
        assert_eq!(
            parse("vew missing"),
            Err("unknown command \"vew\" (did you mean \"view\"?)".into())
        );
        assert!(parse("order").is_err());
        assert!(parse("order #1002 #1003").is_err());
    }

    #[test]
    fn completion_follows_the_word_being_typed() {
        let known = Known {
            links: vec!["uk-shop1".into(), "us-shop2".into()],
            orders: vec![],
            sort_columns: vec!["default".into(), "id".into(), "paid".into()],
        };
        assert_eq!(complete("vi", &known), ["view"]);
        assert_eq!(apply_completion("vi", &complete("vi", &known)), "view ");
        assert_eq!(complete("view mi", &known), ["missing"]);
        assert_eq!(complete("link u", &known), ["uk-shop1", "us-shop2"]);
        assert_eq!(
            apply_completion("link u", &complete("link u", &known)),
            "link u"
        );
        assert_eq!(
            apply_completion("link uk", &complete("link uk", &known)),
            "link uk-shop1 "
        );
        assert_eq!(
            complete("s", &known),
            ["settings", "sort", "stores", "stuck", "sync"]
        );
        assert_eq!(apply_completion("se", &complete("se", &known)), "settings ");
        assert_eq!(complete("sort ", &known), ["default", "id", "paid"]);
        assert_eq!(replace_last_word("view m", "missing"), "view missing");
        assert_eq!(replace_last_word("vi", "view"), "view");
    }
}
