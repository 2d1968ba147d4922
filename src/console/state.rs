//! Everything the console shows, as plain data. Rendering is a pure function of a [`State`]
//! (so snapshots are deterministic) and only the reducer (`update`) changes it. The state
//! holds the live keymap and theme too, because help and the footer are drawn from them.

use tui_input::Input;

use crate::domain::access::{Permission, Role};
use crate::domain::clock::Timestamp;
use crate::domain::ids::{LinkId, TiktokOrderId};
use crate::domain::request::ResyncRequest;
use crate::service::api::{
    ActivityItem, CancellationRow, OrderDetail, OrderRow, Overview, Welcome,
};

use super::action::Scope;
use super::effect::{Confirm, Prompt};
use super::keymap::{Keymap, KeymapProblem};
use super::keys::Key;
use super::list::List;
use super::settings_form::SettingsForm;
use super::theme::{Level, Theme};

/// The tabs, in number-key order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum View {
    Stores,
    Pending,
    Missing,
    Stuck,
    Cancellations,
    Approvals,
    Activity,
    Settings,
    /// Every order, newest first: where support finds the order a customer calls about.
    Orders,
}

impl View {
    pub const ALL: [View; 9] = [
        View::Stores,
        View::Pending,
        View::Missing,
        View::Stuck,
        View::Cancellations,
        View::Approvals,
        View::Activity,
        View::Settings,
        View::Orders,
    ];

    /// Name in `:view NAME` and titles.
    pub fn name(self) -> &'static str {
        match self {
            View::Stores => "stores",
            View::Pending => "pending",
            View::Missing => "missing",
            View::Stuck => "stuck",
            View::Cancellations => "cancellations",
            View::Approvals => "approvals",
            View::Activity => "activity",
            View::Settings => "settings",
            View::Orders => "orders",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            View::Stores => "Stores",
            View::Pending => "Pending orders",
            View::Missing => "Missing tracking",
            View::Stuck => "Stuck: a person must act",
            View::Cancellations => "Cancellations",
            View::Approvals => "Approvals",
            View::Activity => "Activity",
            View::Settings => "Settings",
            View::Orders => "Orders",
        }
    }

    /// Title for a narrow tab bar.
    pub fn short(self) -> &'static str {
        match self {
            View::Pending => "Pending",
            View::Missing => "Missing",
            View::Stuck => "Stuck",
            View::Cancellations => "Cancels",
            other => other.title(),
        }
    }

    pub fn parse(name: &str) -> Option<View> {
        let name = name.to_ascii_lowercase();
        let alias = match name.as_str() {
            "missing-tracking" | "tracking" => "missing",
            "cancels" | "cancel" => "cancellations",
            "requests" => "approvals",
            "audit" => "activity",
            "health" | "links" => "stores",
            "all" | "every" => "orders",
            other => other,
        };
        View::ALL.into_iter().find(|v| v.name() == alias)
    }

    /// Where keys are looked up in this view, most specific scope first.
    pub fn chain(self) -> &'static [Scope] {
        Scope::chain_for(self)
    }

    pub fn index(self) -> usize {
        View::ALL.iter().position(|v| *v == self).unwrap_or(0)
    }
}

/// Who is at the keyboard, as the service told us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: String,
    pub uid: u32,
    pub role: Option<Role>,
    pub two_person: bool,
    pub daemon: bool,
    /// Started with `--readonly`: nothing is offered that writes, whatever the role.
    pub readonly: bool,
}

impl Session {
    pub fn from_welcome(welcome: &Welcome) -> Session {
        Session {
            user: welcome.user.clone(),
            uid: welcome.uid,
            role: welcome.role,
            two_person: welcome.two_person,
            daemon: welcome.daemon,
            readonly: false,
        }
    }

    pub fn may(&self, permission: Permission) -> bool {
        !self.readonly && self.role.is_some_and(|r| r.may(permission))
    }

    /// Viewers (and people without a role) cannot change anything; nor can a `--readonly`
    /// console.
    pub fn read_only(&self) -> bool {
        !self.may(Permission::RequestResync)
    }

    /// Why `permission` is refused here.
    pub fn refusal(&self, permission: Permission) -> String {
        if self.readonly {
            "this console was started with --readonly: it only reads".into()
        } else {
            crate::domain::access::refusal(self.role, permission)
        }
    }
}

/// Where the person was going when the settings form stopped them to ask about unsaved changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leave {
    Quit,
    View(View),
    /// Another link's settings.
    Link(LinkId),
}

/// A line of the message history (`:messages`): every toast, error and notice, whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub at: Timestamp,
    pub level: Level,
    pub text: String,
}

/// How many messages the history keeps (the oldest go first).
pub const MESSAGES_KEPT: usize = 500;

/// The header's environment label (`[console] label`, `colour`), like k9s' per-context skin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Badge {
    pub text: String,
    pub colour: Option<ratatui::style::Color>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    Live,
    /// The daemon went away; the client keeps trying.
    Reconnecting {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub id: u64,
    pub level: Level,
    pub text: String,
    /// Stays until dismissed (errors, notices) rather than fading.
    pub stays: bool,
}

/// A layer over the view that takes the keys while it is open.
#[derive(Debug, Clone)]
pub enum Overlay {
    Help {
        scroll: usize,
    },
    /// Keymap problems found at startup.
    Problems {
        scroll: usize,
    },
    Confirm(Confirm),
    Prompt(Prompt),
    /// The selected row, whole (every field wrapped).
    Row {
        scroll: usize,
    },
    /// The message history, newest first.
    Messages {
        scroll: usize,
    },
    /// A resync request's orders, to pick one and open it (Enter on an approval).
    Targets {
        request: Box<crate::domain::request::ResyncRequest>,
        selected: usize,
    },
    /// Leaving the settings form (or quitting) with changes not saved: save, discard or stay.
    Unsaved {
        then: Leave,
    },
}

/// The line at the bottom while typing a filter or a command.
#[derive(Debug, Clone)]
pub struct InputLine {
    pub kind: LineKind,
    pub input: Input,
    /// Completion candidates for the word being typed.
    pub candidates: Vec<String>,
    /// Tab is cycling through `candidates`: the one shown in the input.
    pub cycling: Option<usize>,
    /// Browsing the command history (Up/Down): the entry shown, and what was typed before.
    pub history: Option<(usize, String)>,
}

impl InputLine {
    pub fn new(kind: LineKind, text: String) -> InputLine {
        InputLine {
            kind,
            input: Input::new(text),
            candidates: Vec::new(),
            cycling: None,
            history: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineKind {
    /// The filter as it was before typing, restored by Esc.
    Filter {
        before: String,
    },
    Command,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DetailState {
    pub id: TiktokOrderId,
    pub data: Option<Box<OrderDetail>>,
    pub scroll: usize,
    pub waiting_for: Option<u64>,
    pub error: Option<String>,
}

/// Which kinds of data changed since the last refresh (from change notifications).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Changed {
    pub orders: bool,
    pub requests: bool,
    pub audit: bool,
    pub settings: bool,
    pub health: bool,
}

impl Changed {
    pub fn any(&self) -> bool {
        self.orders || self.requests || self.audit || self.settings || self.health
    }
}

#[derive(Debug, Clone)]
pub struct State {
    pub session: Session,
    pub keymap: Keymap,
    pub theme: Theme,
    pub now: Timestamp,
    pub width: u16,
    pub height: u16,
    pub view: View,
    pub detail: Option<DetailState>,
    pub overlay: Option<Overlay>,
    pub line: Option<InputLine>,
    /// Keys typed so far of a chord (`g` waiting for `g`).
    pub typed: Vec<Key>,
    /// Enter came before this view's rows ("4 enter" over a slow link): the selected row
    /// opens once it arrives, unless another action came first.
    pub open_when_shown: Option<View>,
    /// Lists are narrowed to this link (`:link NAME`).
    pub link: Option<LinkId>,
    pub overview: Option<Overview>,
    pub overview_waiting_for: Option<u64>,
    pub stores_selected: usize,
    pub pending: List<OrderRow>,
    pub missing: List<OrderRow>,
    pub stuck: List<OrderRow>,
    /// Every order (the Orders view).
    pub orders: List<OrderRow>,
    pub cancellations: List<CancellationRow>,
    pub approvals: List<ResyncRequest>,
    /// People's actions (audit) and the engine's events, newest first.
    pub activity: List<ActivityItem>,
    /// Activity stays on the newest entries and refreshes as they come.
    pub follow: bool,
    /// New activity arrived while not following.
    pub activity_unseen: bool,
    pub settings: SettingsForm,
    pub toasts: Vec<Toast>,
    /// Every message of this session, oldest first (at most [`MESSAGES_KEPT`]).
    pub messages: Vec<Message>,
    /// Commands run from the `:` line, oldest first, for Up/Down.
    pub command_history: Vec<String>,
    /// What to do once the settings being saved are saved (quit, switch view).
    pub after_save: Option<Leave>,
    /// The header's environment label.
    pub badge: Option<Badge>,
    /// Mouse events are taken (wheel scrolls, click selects).
    pub mouse: bool,
    pub connection: Connection,
    pub problems: Vec<KeymapProblem>,
    pub changed: Changed,
    /// A debounced refresh is already on its way.
    pub refresh_armed: bool,
    /// Resync requests asked from this console that wait for an operator: when one is decided
    /// the asker is told (a toast), whoever decided it.
    pub asked: Vec<crate::domain::ids::RequestId>,
    /// Bumped by every reducer call; the screen skips frames for a revision already drawn.
    pub revision: u64,
    pub next_id: u64,
}

impl State {
    pub fn new(
        welcome: &Welcome,
        keymap: Keymap,
        theme: Theme,
        now: Timestamp,
        (width, height): (u16, u16),
    ) -> State {
        State {
            session: Session::from_welcome(welcome),
            keymap,
            theme,
            now,
            width,
            height,
            view: View::Stores,
            detail: None,
            overlay: None,
            line: None,
            typed: Vec::new(),
            open_when_shown: None,
            link: None,
            overview: None,
            overview_waiting_for: None,
            stores_selected: 0,
            pending: List::default(),
            missing: List::default(),
            stuck: List::default(),
            orders: List::default(),
            cancellations: List::default(),
            approvals: List::default(),
            activity: List::default(),
            follow: false,
            activity_unseen: false,
            settings: SettingsForm::default(),
            toasts: Vec::new(),
            messages: Vec::new(),
            command_history: Vec::new(),
            after_save: None,
            badge: None,
            mouse: false,
            connection: Connection::Live,
            problems: Vec::new(),
            changed: Changed::default(),
            refresh_armed: false,
            asked: Vec::new(),
            revision: 0,
            next_id: 1,
        }
    }

    pub fn next_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Rows of a list that fit on screen (see `view::layout`).
    pub fn page_rows(&self) -> usize {
        super::view::list_rows(self.height)
    }

    /// The list of orders `view` shows, if it shows one (Pending, Missing tracking, Stuck,
    /// Orders).
    pub fn order_list(&self, view: View) -> Option<&List<OrderRow>> {
        match view {
            View::Pending => Some(&self.pending),
            View::Missing => Some(&self.missing),
            View::Stuck => Some(&self.stuck),
            View::Orders => Some(&self.orders),
            _ => None,
        }
    }

    /// Link names known from the overview, for completion and the settings tabs.
    pub fn link_names(&self) -> Vec<String> {
        self.overview
            .iter()
            .flat_map(|o| o.links.iter().map(|l| l.link.to_string()))
            .collect()
    }
}
