//! `orderdeck` without a command: the console. It attaches to the running daemon, or opens the
//! store in this process when none answers (the header then says the data is only as fresh as
//! the last sync). Also the console flags `demo` shares (`--view`, `--link`) and how the
//! console's options come from the environment: `NO_COLOR`, the user keymap in the XDG config
//! dir. While the console runs, logs go to the data dir's file only, never to the terminal.

use std::path::Path;

use clap::Args;

use crate::config::Config;
use crate::console::theme::named_colour;
use crate::console::{self, Badge, ConsoleOptions, View};
use crate::domain::ids::LinkId;

use super::orders::check_link;
use super::runtime;

#[derive(Debug, Clone, Default, Args)]
pub struct ConsoleArgs {
    /// The view to open on: stores, pending, missing, cancellations, approvals, activity,
    /// settings
    #[arg(long, value_name = "VIEW", value_parser = parse_view)]
    pub view: Option<View>,
    /// Show only this link's orders and cancellations (Esc widens to every link)
    #[arg(long, value_name = "L")]
    pub link: Option<LinkId>,
    /// Browse safely: the console offers nothing that writes, whatever your role
    #[arg(long)]
    pub readonly: bool,
}

fn parse_view(text: &str) -> Result<View, String> {
    View::parse(text).ok_or_else(|| {
        let names: Vec<&str> = View::ALL.iter().map(|v| v.name()).collect();
        format!("no view is called {text:?}; views: {}", names.join(", "))
    })
}

impl ConsoleArgs {
    /// The console's options: these flags over the defaults, which read the environment
    /// (`NO_COLOR` when the console starts, the keymap at `$XDG_CONFIG_HOME/orderdeck/`).
    pub fn options(&self) -> ConsoleOptions {
        let mut options = ConsoleOptions::default();
        if let Some(view) = self.view {
            options.view = view;
        }
        options.link = self.link.clone();
        options.readonly = self.readonly;
        options
    }

    /// [`ConsoleArgs::options`] with the config's `[console]` section: label, colour, mouse.
    pub fn options_with(&self, config: &Config) -> ConsoleOptions {
        let mut options = self.options();
        let console = &config.console;
        options.badge = console.label.as_ref().map(|text| Badge {
            text: text.clone(),
            colour: console.colour.and_then(named_colour),
        });
        options.mouse = console.mouse;
        options
    }
}

/// The console draws on stdout and reads keys from stdin: without a terminal on both (a
/// script, a pipe, cron) it says what to use instead, before anything is opened.
pub fn check_terminal() -> Result<(), super::NeedsTerminal> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
        Ok(())
    } else {
        Err(super::NeedsTerminal)
    }
}

/// Runs the console against the daemon, or in-process over the store.
pub async fn run(config: &Config, args: &ConsoleArgs) -> anyhow::Result<()> {
    check_link(config, args.link.as_ref())?;
    let (client, local) = runtime::connect(config).await?;
    let _log = log_quietly(&config.paths.data_dir);
    let result = console::run(client, args.options_with(config)).await;
    runtime::close(local);
    result
}

/// The file `runtime::log_to_file` writes in the data dir.
const LOG_FILE: &str = "orderdeck.log";

/// Logs to the data dir's file when this user may write it (a console attached to a daemon
/// run by another account may not), and otherwise not at all: never to the terminal the
/// console draws on. The probe matters because the appender gives up by panicking.
pub fn log_quietly(data_dir: &Path) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(data_dir.join(LOG_FILE))
        .ok()?;
    runtime::log_to_file(data_dir, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_are_named_as_in_the_command_line() {
        for view in View::ALL {
            assert_eq!(parse_view(view.name()), Ok(view));
        }
        assert_eq!(parse_view("audit"), Ok(View::Activity));
        let error = parse_view("late").unwrap_err();
        assert!(error.contains("views: stores, pending"), "{error}");
    }
}
