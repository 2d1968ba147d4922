//! The scriptable face: `orderdeck <command>`. Parses arguments (clap), runs one command and
//! turns its outcome into an exit status: 0 ok, 1 failure, 2 bad usage or bad config (clap's
//! own usage errors already exit 2). Errors here are `anyhow`, the one layer allowed it; every
//! problem of a config (and of the user's keymap) is printed on its own `file:line:column:`
//! line. A reader that stops reading (`| head`) ends a command quietly with 0: nothing prints
//! with `println!`, which would panic. Without a command it opens the console ([`console`]);
//! `demo` runs everything in one process ([`demo`]); `init`, `completions` and `man` need no
//! config.

mod args;
#[cfg(test)]
#[path = "../../build/version.rs"]
mod build_version;
mod check_config;
mod commands;
pub mod console;
pub mod demo;
mod docs;
pub mod history;
mod init;
pub mod orders;
mod output;
pub mod runtime;
mod sandbox;
mod serve;
mod webhooks;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use crate::config::{Config, ConfigPath, Environment, Problems};

pub use args::{
    AuditArgs, HandledArgs, LabelArgs, OrderArgs, RejectArgs, RequestsArgs, ResyncArgs,
    SandboxArgs, SettingsCommand, Since, SyncArgs,
};

/// `--version`: the release, the git commit it was built from and that commit's date (or
/// `SOURCE_DATE_EPOCH`), as `build.rs` found them; "unknown" where they could not be known.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("ORDERDECK_GIT_COMMIT"),
    ", built ",
    env!("ORDERDECK_BUILD_DATE"),
    ")"
);

#[derive(Debug, Parser)]
#[command(
    name = "orderdeck",
    version = VERSION,
    about = "Keeps TikTok Shop orders flowing into your store and back",
    long_about = "Keeps TikTok Shop orders flowing into your store and back.\n\n\
                  Without a command, opens the console. Commands talk to the running daemon \
                  (`orderdeck serve`) when there is one, and otherwise open the store themselves."
)]
pub struct Cli {
    /// The config file [default: ~/.config/orderdeck/orderdeck.toml]
    #[arg(long, global = true, env = "ORDERDECK_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,

    #[command(flatten)]
    pub console: console::ConsoleArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// Parses this process's arguments. Usage errors print and exit 2, as clap's own do;
    /// that includes console flags given to a command (which would otherwise be ignored).
    pub fn parse_or_exit() -> Cli {
        let cli = Cli::parse();
        if let Err(e) = cli.check() {
            e.exit();
        }
        cli
    }

    fn check(&self) -> Result<(), clap::Error> {
        let console_flags =
            self.console.view.is_some() || self.console.link.is_some() || self.console.readonly;
        match &self.command {
            Some(command) if console_flags => Err(Cli::command().error(
                clap::error::ErrorKind::ArgumentConflict,
                format!(
                    "--view, --link and --readonly are for the console; give them without a command{}",
                    if matches!(command, Command::Demo(_)) {
                        " or after `demo`"
                    } else {
                        ""
                    }
                ),
            )),
            _ => Ok(()),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon: owns the store, runs the sync engine, serves consoles and commands on
    /// the Unix socket
    Serve,
    /// Run a living demo: simulated TikTok Shop and store, the daemon and the console, all
    /// in one command
    Demo(demo::DemoArgs),
    /// Run only the simulated TikTok Shop and store APIs on loopback, for testing a config
    Sandbox(SandboxArgs),
    /// Poll every link and run the jobs that result
    Sync(SyncArgs),
    /// List orders: pending, missing tracking, cancellations, stuck, or all
    Orders(orders::OrdersArgs),
    /// Show one order: its flows, timeline and why it is stuck
    Order(OrderArgs),
    /// Ask for a resync of orders (re-create, re-push tracking, re-run a cancellation)
    Resync(ResyncArgs),
    /// List resync requests waiting for a decision
    Requests(RequestsArgs),
    /// Approve a resync request, so the engine runs it
    Approve {
        /// The request (R12 or 12)
        #[arg(value_name = "REQ")]
        request: crate::domain::ids::RequestId,
    },
    /// Reject a resync request, with a reason the requester will see
    Reject(RejectArgs),
    /// Fetch a TikTok-shipped order's shipping label, to save or print
    Label(LabelArgs),
    /// Say how a parcel shipped before TikTok's cancel ended; the order leaves the stuck list
    Handled(HandledArgs),
    /// Show or change a link's settings
    #[command(subcommand)]
    Settings(SettingsCommand),
    /// Show the audit log: who did what, when
    Audit(AuditArgs),
    /// Register, list or remove the platforms' webhook subscriptions to this orderdeck
    #[command(subcommand)]
    Webhooks(webhooks::WebhooksCommand),
    /// Check the config file and list every problem, with file:line:column
    CheckConfig,
    /// Write a commented starter config (private, mode 600) where orderdeck looks for it;
    /// never overwrites
    Init,
    /// Print the shell completion script for SHELL (see the README to install it)
    Completions {
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `orderdeck man > ~/.local/share/man/man1/orderdeck.1`
    Man,
}

/// The console was started without a terminal to draw on (exit 2: it is a matter of usage).
#[derive(Debug, thiserror::Error)]
#[error(
    "the console needs a terminal; for scripts use `orderdeck orders` (and `orderdeck --help` for the other commands)"
)]
pub struct NeedsTerminal;

/// Runs the command line. `Err` carries what to tell the user; [`fail`] prints it.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let config_path = || ConfigPath::choose(cli.config.clone(), &Environment::from_process());
    let load =
        || -> anyhow::Result<Config> { Ok(Config::open(&config_path().map_err(Problems::from)?)?) };
    match &cli.command {
        Some(Command::CheckConfig) => {
            return check_config::run(&config_path().map_err(Problems::from)?);
        }
        Some(Command::Init) => return init::run(&config_path().map_err(Problems::from)?),
        Some(Command::Completions { shell }) => {
            return docs::completions(*shell, &mut std::io::stdout().lock());
        }
        Some(Command::Man) => return docs::man(&mut std::io::stdout().lock()),
        Some(_) => {}
        None => console::check_terminal()?,
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(async move {
        match cli.command {
            None => console::run(&load()?, &cli.console).await,
            Some(
                Command::CheckConfig | Command::Init | Command::Completions { .. } | Command::Man,
            ) => {
                unreachable!("handled above")
            }
            Some(Command::Serve) => serve::run(&load()?).await,
            Some(Command::Demo(args)) => demo::run(args).await,
            Some(Command::Sandbox(args)) => sandbox::run(args.seed, args.orders_per_shop).await,
            Some(Command::Webhooks(command)) => webhooks::run(&load()?, &command).await,
            Some(command) => with_client(&load()?, command).await,
        }
    });
    // Whatever is still running (a job in flight, a read of a terminal that hung up) must not
    // hold the exit: the store was flushed after every write.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    result
}

/// Runs a command against the daemon, or in-process when none runs.
async fn with_client(config: &Config, command: Command) -> anyhow::Result<()> {
    if let Command::Orders(args) = &command {
        orders::check_link(config, args.link.as_ref())?;
    }
    let (client, local) = runtime::connect(config).await?;
    let _log = local
        .as_ref()
        .and_then(|_| runtime::log_to_file(&config.paths.data_dir, false));
    let links: Vec<_> = config.links.iter().map(|l| l.name.clone()).collect();
    let c = &*client;
    let in_process = local.is_some();
    let result = match command {
        Command::Sync(args) if args.once => commands::sync_once(c, in_process).await,
        Command::Sync(_) => Err(anyhow::anyhow!(
            "`orderdeck sync` without --once is the daemon's job: run `orderdeck serve` (or `orderdeck sync --once` from a timer)"
        )),
        Command::Orders(args) => commands::orders(c, &args).await,
        Command::Order(args) => commands::order(c, &args).await,
        Command::Resync(args) => commands::resync(c, &args, in_process).await,
        Command::Requests(args) => commands::requests(c, &args).await,
        Command::Approve { request } => commands::decide(c, request, true, None, in_process).await,
        Command::Reject(args) => commands::reject(c, &args).await,
        Command::Label(args) => commands::label(c, &args).await,
        Command::Handled(args) => commands::handled(c, &args).await,
        Command::Settings(command) => commands::settings(c, &command, links).await,
        Command::Audit(args) => commands::audit(c, &args).await,
        Command::CheckConfig
        | Command::Serve
        | Command::Demo(_)
        | Command::Sandbox(_)
        | Command::Webhooks(_)
        | Command::Init
        | Command::Completions { .. }
        | Command::Man => unreachable!("dispatched by run"),
    };
    drop(client);
    runtime::close(local);
    result
}

/// Prints a failed command's error to stderr and returns its exit status: 2 for a config
/// that does not load (each problem on its own line, then a count), a keymap with problems
/// (already listed) or a console without a terminal, 1 for anything else — and 0, silently,
/// when stdout's reader went away (`| head -1`): it had read all it wanted. Printing never
/// panics: after a hangup there is no terminal left to print to.
pub fn fail(error: &anyhow::Error) -> ExitCode {
    let say = |text: &dyn std::fmt::Display| output::warn(text);
    if output::is_broken_pipe(error) {
        return ExitCode::SUCCESS;
    }
    if error.is::<check_config::KeymapProblems>() || error.is::<NeedsTerminal>() {
        say(&format_args!("orderdeck: {error}"));
        return ExitCode::from(2);
    }
    match error.downcast_ref::<Problems>() {
        Some(problems) => {
            for problem in &problems.0 {
                say(problem);
            }
            // A file-level problem (missing, unreadable) speaks for itself; a list of places
            // gets a count, since it may have scrolled past.
            if problems.0.iter().any(|p| p.position.is_some()) {
                let errors = problems.errors().count();
                let file = problems.0[0].file.display();
                let (noun, pronoun) = if errors == 1 {
                    ("problem", "it")
                } else {
                    ("problems", "them")
                };
                say(&format_args!(
                    "orderdeck: {errors} {noun} in {file}; fix {pronoun} and run `orderdeck check-config` again"
                ));
            }
            ExitCode::from(2)
        }
        None => {
            say(&format_args!("orderdeck: {error:#}"));
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn bad_usage_is_refused_by_the_parser() {
        for argv in [
            &[
                "orderdeck",
                "resync",
                "12x",
                "--flow",
                "import",
                "--reason",
                "r",
            ][..],
            &[
                "orderdeck",
                "resync",
                "12",
                "--flow",
                "refund",
                "--reason",
                "r",
            ],
            &["orderdeck", "orders", "--view", "late"],
            &["orderdeck", "settings", "set", "uk", "sync_trackin", "off"],
            &["orderdeck", "reject", "R1"],
            &["orderdeck", "audit", "--since", "yesterday-ish"],
            &["orderdeck", "--view", "late"],
            &["orderdeck", "demo", "--role", "boss"],
            &["orderdeck", "demo", "--every", "1ms"],
        ] {
            let error = Cli::try_parse_from(argv).unwrap_err();
            assert_eq!(error.exit_code(), 2, "{argv:?}");
        }
    }

    #[test]
    fn console_flags_belong_to_the_console() {
        let parse = |argv: &[&str]| Cli::try_parse_from(argv).and_then(|cli| cli.check());
        assert!(parse(&["orderdeck", "--view", "pending", "--link", "uk"]).is_ok());
        assert!(
            parse(&[
                "orderdeck",
                "demo",
                "--role",
                "support",
                "--view",
                "approvals"
            ])
            .is_ok()
        );
        let error = parse(&["orderdeck", "--view", "pending", "orders"]).unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert!(
            error
                .to_string()
                .contains("--view, --link and --readonly are for the console")
        );
    }
}
