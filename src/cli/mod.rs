//! The scriptable face: `orderdeck <command>`. Parses arguments (clap), runs one command and
//! turns its outcome into an exit status: 0 ok, 1 failure, 2 bad usage or bad config (clap's
//! own usage errors already exit 2). Errors here are `anyhow`, the one layer allowed it; every
//! problem of a config is printed on its own `file:line:column:` line.
//!
//! Commands that need the daemon or the store say plainly that they are not implemented yet,
//! naming the feature that brings them, rather than pretending to work.

mod args;
mod check_config;
mod commands;
pub mod orders;
mod output;
pub mod runtime;
mod sandbox;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Config, ConfigPath, Environment, Problems};

pub use args::{
    AuditArgs, LabelArgs, OrderArgs, RejectArgs, RequestsArgs, ResyncArgs, SandboxArgs,
    SettingsCommand, Since, SyncArgs,
};

#[derive(Debug, Parser)]
#[command(
    name = "orderdeck",
    version,
    about = "Keeps TikTok Shop orders flowing into your store and back",
    long_about = "Keeps TikTok Shop orders flowing into your store and back.\n\n\
                  Without a command, opens the console. Commands talk to the running daemon \
                  (`orderdeck serve`) when there is one, and otherwise open the store themselves."
)]
pub struct Cli {
    /// The config file [default: ~/.config/orderdeck/orderdeck.toml]
    #[arg(long, global = true, env = "ORDERDECK_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon: owns the store, runs the sync engine, serves consoles and commands on
    /// the Unix socket
    Serve,
    /// Run a living demo: simulated TikTok Shop and store, the daemon and the console, all
    /// in one command
    Demo,
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
    /// Show or change a link's settings
    #[command(subcommand)]
    Settings(SettingsCommand),
    /// Show the audit log: who did what, when
    Audit(AuditArgs),
    /// Check the config file and list every problem, with file:line:column
    CheckConfig,
}

/// Runs the command line. `Err` carries what to tell the user; [`fail`] prints it.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let config_path = || ConfigPath::choose(cli.config.clone(), &Environment::from_process());
    let load =
        || -> anyhow::Result<Config> { Ok(Config::open(&config_path().map_err(Problems::from)?)?) };
    let Some(command) = cli.command else {
        return not_yet("the console");
    };
    if let Command::CheckConfig = command {
        return check_config::run(&config_path().map_err(Problems::from)?);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match command {
            Command::CheckConfig => unreachable!("handled above"),
            Command::Serve => serve::run(&load()?).await,
            Command::Demo => not_yet("the demo (sandbox + daemon + console)"),
            Command::Sandbox(args) => sandbox::run(args.seed, args.orders_per_shop).await,
            command => with_client(&load()?, command).await,
        }
    })
}

/// Runs a command against the daemon, or in-process when none runs.
async fn with_client(config: &Config, command: Command) -> anyhow::Result<()> {
    if let Command::Orders(args) = &command {
        orders::check_link(config, args)?;
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
        Command::Settings(command) => commands::settings(c, &command, links).await,
        Command::Audit(args) => commands::audit(c, &args).await,
        Command::CheckConfig | Command::Serve | Command::Demo | Command::Sandbox(_) => {
            unreachable!("dispatched by run")
        }
    };
    drop(client);
    runtime::close(local);
    result
}

fn not_yet(feature: &str) -> anyhow::Result<()> {
    anyhow::bail!("not implemented yet: comes with {feature}")
}

/// Prints a failed command's error to stderr and returns its exit status: 2 for a config
/// that does not load (each problem on its own line, then a count), 1 for anything else.
pub fn fail(error: &anyhow::Error) -> ExitCode {
    match error.downcast_ref::<Problems>() {
        Some(problems) => {
            for problem in &problems.0 {
                eprintln!("{problem}");
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
                eprintln!(
                    "orderdeck: {errors} {noun} in {file}; fix {pronoun} and run `orderdeck check-config` again"
                );
            }
            ExitCode::from(2)
        }
        None => {
            eprintln!("orderdeck: {error:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

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
        ] {
            let error = Cli::try_parse_from(argv).unwrap_err();
            assert_eq!(error.exit_code(), 2, "{argv:?}");
        }
    }
}
