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
    Cancellations,
    Approvals,
    Activity,
    Settings,
}

impl View {
    pub const ALL: [View; 7] = [
        View::Stores,
        View::Pending,
        View::Missing,
        View::Cancellations,
        View::Approvals,
        View::Activity,
        View::Settings,
    ];

    /// Name in `:view NAME` and titles.
    pub fn name(self) -> &'static str {
        match self {
            View::Stores => "stores",
            View::Pending => "pending",
            View::Missing => "missing",
            View::Cancellations => "cancellations",
            View::Approvals => "approvals",
            View::Activity => "activity",
            View::Settings => "settings",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            View::Stores => "Stores",
            View::Pending => "Pending orders",
            View::Missing => "Missing tracking",
            View::Cancellations => "Cancellations",
            View::Approvals => "Approvals",
            View::Activity => "Activity",
            View::Settings => "Settings",
        }
    }

    /// Title for a narrow tab bar.
    pub fn short(self) -> &'static str {
        match self {
            View::Pending => "Pending",
            View::Missing => "Missing",
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
}

impl Session {
    pub fn from_welcome(welcome: &Welcome) -> Session {
        Session {
            user: welcome.user.clone(),
            uid: welcome.uid,
            role: welcome.role,
            two_person: welcome.two_person,
            daemon: welcome.daemon,
        }
    }

    pub fn may(&self, permission: Permission) -> bool {
        self.role.is_some_and(|r| r.may(permission))
    }

    /// Viewers (and people without a role) cannot change anything.
    pub fn read_only(&self) -> bool {
        !self.may(Permission::RequestResync)
    }
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
}

/// The line at the bottom while typing a filter or a command.
#[derive(Debug, Clone)]
pub struct InputLine {
    pub kind: LineKind,
    pub input: Input,
    /// Completion candidates for the word being typed.
    pub candidates: Vec<String>,
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
    /// Lists are narrowed to this link (`:link NAME`).
    pub link: Option<LinkId>,
    pub overview: Option<Overview>,
    pub overview_waiting_for: Option<u64>,
    pub stores_selected: usize,
    pub pending: List<OrderRow>,
    pub missing: List<OrderRow>,
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
    pub connection: Connection,
    pub problems: Vec<KeymapProblem>,
    pub changed: Changed,
    /// A debounced refresh is already on its way.
    pub refresh_armed: bool,
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
            link: None,
            overview: None,
            overview_waiting_for: None,
            stores_selected: 0,
            pending: List::default(),
            missing: List::default(),
            cancellations: List::default(),
            approvals: List::default(),
            activity: List::default(),
            follow: false,
            activity_unseen: false,
            settings: SettingsForm::default(),
            toasts: Vec::new(),
            connection: Connection::Live,
            problems: Vec::new(),
            changed: Changed::default(),
            refresh_armed: false,
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

    /// Link names known from the overview, for completion and the settings tabs.
    pub fn link_names(&self) -> Vec<String> {
        self.overview
            .iter()
            .flat_map(|o| o.links.iter().map(|l| l.link.to_string()))
            .collect()
    }
}
