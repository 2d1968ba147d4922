//! The console's vocabulary: everything a person can ask the console to do is one [`Action`].
//! Keys map to actions (`keymap`), commands reach actions (`command`), and the reducer
//! (`update`) applies them. Each action carries, in one table, its keymap name, a short label
//! for the footer, a description for help, the keymap scopes where it means something and the
//! permission it needs: role gating, help, footer hints and keymap checks all read this table.

use std::fmt;

use crate::domain::access::Permission;

use super::state::View;

/// Where a binding applies. A key is looked up along a chain from the most specific scope to
/// `global` (see [`Scope::chain_for`]), so `[orders]` can override `[list]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    Global,
    /// Shared by every list view: moving, marking, filtering, opening.
    List,
    Stores,
    /// The order lists: Pending, Missing tracking, Stuck and Orders (every order).
    Orders,
    Cancellations,
    Approvals,
    Activity,
    Detail,
    Settings,
    /// Text entry: the filter and command lines, reason prompts, settings fields.
    Input,
    /// A yes/no question.
    Confirm,
}

impl Scope {
    pub const ALL: [Scope; 11] = [
        Scope::Global,
        Scope::List,
        Scope::Stores,
        Scope::Orders,
        Scope::Cancellations,
        Scope::Approvals,
        Scope::Activity,
        Scope::Detail,
        Scope::Settings,
        Scope::Input,
        Scope::Confirm,
    ];

    /// Keys of a list that is no view of its own (help, the problems list).
    pub const CHAIN_LIST: &'static [Scope] = &[Scope::List, Scope::Global];
    /// Keys of the order detail.
    pub const CHAIN_DETAIL: &'static [Scope] = &[Scope::Detail, Scope::Global];
    /// Keys while text is typed.
    pub const CHAIN_INPUT: &'static [Scope] = &[Scope::Input];
    /// Keys of a yes/no question.
    pub const CHAIN_CONFIRM: &'static [Scope] = &[Scope::Confirm];

    /// Where keys are looked up in `view`, most specific scope first.
    pub fn chain_for(view: View) -> &'static [Scope] {
        match view {
            View::Stores => &[Scope::Stores, Scope::List, Scope::Global],
            View::Pending | View::Missing | View::Stuck | View::Orders => {
                &[Scope::Orders, Scope::List, Scope::Global]
            }
            View::Cancellations => &[Scope::Cancellations, Scope::List, Scope::Global],
            View::Approvals => &[Scope::Approvals, Scope::List, Scope::Global],
            View::Activity => &[Scope::Activity, Scope::List, Scope::Global],
            View::Settings => &[Scope::Settings, Scope::Global],
        }
    }

    /// Every resolution chain the console uses, most specific first. Conflicts between
    /// bindings (a key shadowing a chord) only matter inside one chain.
    pub fn chains() -> Vec<&'static [Scope]> {
        let mut chains: Vec<&'static [Scope]> = Vec::new();
        let all = View::ALL.into_iter().map(Scope::chain_for).chain([
            Scope::CHAIN_LIST,
            Scope::CHAIN_DETAIL,
            Scope::CHAIN_INPUT,
            Scope::CHAIN_CONFIRM,
        ]);
        for chain in all {
            if !chains.contains(&chain) {
                chains.push(chain);
            }
        }
        chains
    }

    pub fn name(self) -> &'static str {
        match self {
            Scope::Global => "global",
            Scope::List => "list",
            Scope::Stores => "stores",
            Scope::Orders => "orders",
            Scope::Cancellations => "cancellations",
            Scope::Approvals => "approvals",
            Scope::Activity => "activity",
            Scope::Detail => "detail",
            Scope::Settings => "settings",
            Scope::Input => "input",
            Scope::Confirm => "confirm",
        }
    }

    pub fn parse(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Scopes that show a list of rows (and so accept the `[list]` actions).
    fn is_list(self) -> bool {
        matches!(
            self,
            Scope::List
                | Scope::Stores
                | Scope::Orders
                | Scope::Cancellations
                | Scope::Approvals
                | Scope::Activity
        )
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

macro_rules! actions {
    ($($variant:ident = $name:literal, $label:literal, $help:literal;)+) => {
        /// One thing a person can ask for. Fieldless on purpose: it is what a key or a command
        /// names; the reducer reads the rest (selection, marks, filter) from the state.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action {
            $(#[doc = $help] $variant,)+
        }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$variant,)+];

            /// The spelling used in `keymap.toml`.
            pub fn name(self) -> &'static str {
                match self { $(Action::$variant => $name,)+ }
            }

            /// A word or two for the footer.
            pub fn label(self) -> &'static str {
                match self { $(Action::$variant => $label,)+ }
            }

            /// One line for help.
            pub fn describe(self) -> &'static str {
                match self { $(Action::$variant => $help,)+ }
            }
        }
    };
}

actions! {
    Quit = "quit", "quit", "Leave the console";
    Help = "help", "help", "Show the keys and commands available here";
    Back = "back", "back", "Back out one level: close a dialog, leave the detail, clear the filter";
    CommandMode = "command", "cmd", "Type a command (:order ID, :view missing, :link NAME, :q)";
    ViewStores = "view-stores", "stores", "Show the Stores view: health of each link";
    ViewPending = "view-pending", "pending", "Show orders not in the store yet, and why";
    ViewMissing = "view-missing", "missing", "Show orders missing tracking, by ship-by deadline";
    ViewStuck = "view-stuck", "stuck", "Show orders a person must act on, longest stuck first";
    ViewCancellations = "view-cancellations", "cancels", "Show cancellations in both directions";
    ViewApprovals = "view-approvals", "approvals", "Show resync requests waiting for an operator";
    ViewActivity = "view-activity", "activity", "Show what people and the engine did, newest first";
    ViewSettings = "view-settings", "settings", "Show the per-link settings forms";
    ViewOrders = "view-orders", "orders", "Show every order, newest first, to find one by anything";
    NextView = "next-view", "next view", "Switch to the next view";
    PrevView = "prev-view", "prev view", "Switch to the previous view";
    Refresh = "refresh", "refresh", "Ask the service again for what is shown";
    Redraw = "redraw", "redraw", "Repaint the whole screen (after line noise)";
    DismissToasts = "dismiss", "dismiss", "Dismiss messages, errors included";
    Messages = "messages", "messages", "Show every message and error of this session, whole";
    Suspend = "suspend", "suspend", "Suspend to the shell (fg brings the console back)";
    Up = "up", "up", "Move up one row";
    Down = "down", "down", "Move down one row";
    PageUp = "page-up", "page up", "Move up one page";
    PageDown = "page-down", "page down", "Move down one page";
    Top = "top", "top", "Go to the first row";
    Bottom = "bottom", "bottom", "Go to the last row";
    Filter = "filter", "filter", "Filter the list as you type (text, store:uk status:stuck)";
    ToggleMark = "mark", "mark", "Mark or unmark the row; actions apply to the marked rows";
    ClearMarks = "clear-marks", "unmark all", "Unmark every row of this view";
    Open = "open", "open", "Open the order detail (or the link, in Stores)";
    ExpandRow = "expand", "expand", "Show the selected row whole: every field, wrapped";
    CopyId = "copy-id", "copy id", "Copy the id to the clipboard (OSC 52, works over SSH)";
    SortNext = "sort", "sort", "Sort by the next column";
    SortReverse = "sort-reverse", "reverse", "Reverse the sort direction";
    Resync = "resync", "resync", "Resync the orders (support: becomes a request for an operator)";
    RetryStuck = "retry", "retry", "Retry the orders' stuck jobs";
    RetryCause = "retry-cause", "retry cause", "Retry every stuck order waiting on this cause (a SKU, a carrier, credentials)";
    ReprintLabel = "reprint-label", "label", "Fetch and print the shipping label again";
    ParcelHandled = "parcel-handled", "handled", "Say how a parcel shipped before TikTok's cancel ended (outcome, note)";
    ApproveCancel = "approve-cancel", "approve", "Approve the buyer's cancel request on TikTok";
    RejectCancel = "reject-cancel", "reject", "Reject the buyer's cancel request on TikTok";
    ApproveRequest = "approve-request", "approve", "Approve the resync request and run it";
    RejectRequest = "reject-request", "reject", "Reject the resync request (asks why)";
    Follow = "follow", "follow", "Follow new activity as it happens";
    EditSettings = "edit-settings", "settings", "Open the selected link's settings";
    SyncNow = "sync-now", "sync now", "Poll the platforms now instead of waiting";
    PrevLink = "prev-link", "prev link", "Show the previous link's settings";
    NextLink = "next-link", "next link", "Show the next link's settings";
    EditField = "edit-field", "edit", "Edit the selected setting";
    ToggleField = "toggle-field", "toggle", "Turn the selected on/off setting over";
    DeleteMapping = "delete-mapping", "delete", "Remove the selected carrier mapping";
    SaveSettings = "save", "save", "Review the changes and save them";
    RevertSettings = "revert", "revert", "Drop the unsaved changes";
    Submit = "submit", "ok", "Accept what was typed";
    Complete = "complete", "complete", "Complete the word being typed; again: the next candidate";
    CompletePrev = "complete-prev", "previous", "Go back to the previous completion candidate";
    Confirm = "confirm", "yes", "Answer yes";
    Discard = "discard", "discard", "Drop the unsaved changes and go on";
}

impl Action {
    /// What the service must allow before this action is offered. `None`: reading only.
    pub fn permission(self) -> Option<Permission> {
        use Action::*;
        Some(match self {
            Resync => Permission::RequestResync,
            RetryStuck | RetryCause => Permission::RetryStuckJob,
            ReprintLabel => Permission::ReprintLabel,
            ParcelHandled => Permission::MarkParcelHandled,
            ApproveCancel | RejectCancel => Permission::RespondBuyerCancel,
            ApproveRequest | RejectRequest => Permission::DecideResyncRequest,
            SyncNow => Permission::RunSync,
            EditField | ToggleField | DeleteMapping | SaveSettings | RevertSettings => {
                Permission::EditLinkSettings
            }
            _ => return None,
        })
    }

    /// Whether binding this action in `scope` can ever do anything.
    pub fn allowed_in(self, scope: Scope) -> bool {
        use Action::*;
        let list = scope.is_list();
        match self {
            Back => true,
            Quit | Help | CommandMode | ViewStores | ViewPending | ViewMissing | ViewStuck
            | ViewCancellations | ViewApprovals | ViewActivity | ViewSettings | ViewOrders
            | NextView | PrevView | Refresh | Redraw | DismissToasts | Messages | Suspend => {
                !matches!(scope, Scope::Input | Scope::Confirm)
            }
            Up | Down => list || matches!(scope, Scope::Detail | Scope::Settings | Scope::Input),
            PageUp | PageDown | Top | Bottom => {
                list || matches!(scope, Scope::Detail | Scope::Settings)
            }
            Filter | ToggleMark | ClearMarks | Open | ExpandRow => list,
            CopyId => list || scope == Scope::Detail,
            SortNext | SortReverse => matches!(scope, Scope::List | Scope::Orders),
            Resync | RetryStuck | ReprintLabel => matches!(
                scope,
                Scope::List | Scope::Orders | Scope::Cancellations | Scope::Detail
            ),
            ApproveCancel | RejectCancel => {
                matches!(scope, Scope::List | Scope::Cancellations | Scope::Detail)
            }
            ParcelHandled => scope == Scope::Detail,
            // The open order's cause, or the largest of the selected link's in Stores.
            RetryCause => matches!(scope, Scope::List | Scope::Stores | Scope::Detail),
            ApproveRequest | RejectRequest => matches!(scope, Scope::List | Scope::Approvals),
            Follow => matches!(scope, Scope::List | Scope::Activity),
            EditSettings => matches!(scope, Scope::List | Scope::Stores),
            SyncNow => matches!(scope, Scope::Global | Scope::List | Scope::Stores),
            // Saving is also an answer to "leave with unsaved changes?".
            SaveSettings => matches!(scope, Scope::Settings | Scope::Confirm),
            PrevLink | NextLink | EditField | ToggleField | DeleteMapping | RevertSettings => {
                scope == Scope::Settings
            }
            Submit | Complete | CompletePrev => scope == Scope::Input,
            Confirm | Discard => scope == Scope::Confirm,
        }
    }

    pub fn parse(name: &str) -> Option<Action> {
        Action::ALL.iter().copied().find(|a| a.name() == name)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_round_trip() {
        for action in Action::ALL {
            assert_eq!(Action::parse(action.name()), Some(*action));
        }
        let mut names: Vec<_> = Action::ALL.iter().map(|a| a.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Action::ALL.len());
    }

    #[test]
    fn every_action_has_somewhere_to_live() {
        for action in Action::ALL {
            assert!(
                Scope::ALL.into_iter().any(|s| action.allowed_in(s)),
                "{action} is allowed in no scope"
            );
        }
    }

    #[test]
    fn reading_needs_no_permission_and_writing_does() {
        assert_eq!(Action::Open.permission(), None);
        assert_eq!(Action::Resync.permission(), Some(Permission::RequestResync));
        assert_eq!(
            Action::RetryCause.permission(),
            Action::RetryStuck.permission()
        );
        assert_eq!(
            Action::SaveSettings.permission(),
            Some(Permission::EditLinkSettings)
        );
    }
}
