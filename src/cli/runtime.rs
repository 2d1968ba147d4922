//! Where a command's service comes from: the running daemon when its socket answers, otherwise
//! the store opened in this process (same service code, same role checks). Also the pieces
//! `serve` and `demo` share: opening the store, wiring the links, logging to the data dir.

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;

use super::output::CleanLog;
use crate::config::Config;
use crate::domain::clock::{Clock, SystemClock};
use crate::engine::activity::Level;
use crate::engine::wiring::build_links;
use crate::engine::{Engine, EngineOptions};
use crate::service::Service;
use crate::service::client::Client;
use crate::service::identity::Account;
use crate::service::inproc::InProcessClient;
use crate::service::remote::RemoteClient;
use crate::store::{IntegrityReport, RebuildReport, Store, StoreError};

/// The store's directory inside the data dir.
pub fn store_path(data_dir: &Path) -> PathBuf {
    data_dir.join("store")
}

/// Creates the data dir (0700: it holds tokens, labels and the audit log).
pub fn ensure_data_dir(data_dir: &Path) -> anyhow::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(data_dir)
        .with_context(|| format!("cannot create the data dir {}", data_dir.display()))
}

/// Logs go to `orderdeck.log` in the data dir, never to a terminal a console may be drawing on.
/// Returns the guard that flushes the file on drop.
pub fn log_to_file(
    data_dir: &Path,
    also_stderr: bool,
) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let file = tracing_appender::rolling::never(data_dir, "orderdeck.log");
    let (writer, guard) = tracing_appender::non_blocking(file);
    let filter = tracing_subscriber::EnvFilter::try_from_env("ORDERDECK_LOG")
        .unwrap_or_else(|_| "orderdeck=info,warn".into());
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(log_layer(writer))
        .with(also_stderr.then(|| log_layer(std::io::stderr)))
        .try_init();
    Some(guard)
}

/// How orderdeck's log is written to `writer`: plain text (no colours), every event
/// sanitized whole (see [`CleanLog`]), whatever its fields hold.
pub fn log_layer<S, W>(writer: W) -> impl tracing_subscriber::Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt::layer()
        .with_writer(CleanLog(writer))
        .with_ansi(false)
}

/// Logs what an integrity check found and the index rebuild it caused; returns a line for
/// people (the activity log), `None` when all was well.
pub fn log_integrity(report: &IntegrityReport, rebuilt: Option<&RebuildReport>) -> Option<String> {
    for problem in &report.problems {
        tracing::warn!("store integrity: {problem}");
    }
    let rebuilt = rebuilt.map(|r| {
        tracing::warn!(
            entries = r.entries,
            skipped = r.skipped.len(),
            took = ?r.elapsed,
            "store indexes rebuilt from the orders, jobs, cancellations and requests"
        );
        format!(
            "; its indexes were rebuilt from the records ({} entries in {:.1?})",
            r.entries, r.elapsed
        )
    });
    (!report.is_clean()).then(|| {
        format!(
            "the store's integrity check ({:?}, {:.1?}) found {} problems, the first: {}{}",
            report.depth,
            report.elapsed,
            report.problems.len(),
            report
                .problems
                .first()
                .map(ToString::to_string)
                .unwrap_or_default(),
            rebuilt.unwrap_or_default()
        )
    })
}

/// The engine and service over a store this process owns.
pub struct Local {
    pub engine: Arc<Engine>,
    pub service: Arc<Service>,
    pub skipped_links: Vec<String>,
}

/// Opens the store and wires the config's links. `daemon` marks the service as the daemon's.
pub fn open_local(config: &Config, clock: Arc<dyn Clock>, daemon: bool) -> anyhow::Result<Local> {
    ensure_data_dir(&config.paths.data_dir)?;
    let store = Store::open(store_path(&config.paths.data_dir))?;
    let opened = store.open_report();
    let found = log_integrity(&opened.integrity, opened.rebuilt.as_ref());
    let options = EngineOptions::from_config(config);
    let wired = build_links(config, clock.clone(), &options.token_dir)?;
    for skipped in &wired.skipped {
        tracing::warn!("{skipped}");
    }
    let engine = Engine::new(Arc::new(store), clock, wired.links, options);
    if let Some(found) = found {
        engine
            .activity()
            .record(engine.now(), Level::Warn, None, None, found);
    }
    for problem in &wired.problems {
        tracing::error!("{problem}");
        engine.activity().record(
            engine.now(),
            crate::engine::activity::Level::Error,
            None,
            None,
            problem,
        );
    }
    let service = Service::new(
        engine.clone(),
        config.access.clone(),
        config.approvals.two_person,
        daemon,
    );
    Ok(Local {
        engine,
        service,
        skipped_links: wired.skipped,
    })
}

/// A client of the daemon if one answers on the configured socket, else an in-process one.
/// The `Local` is returned too when in-process, so the caller can close the store cleanly.
pub async fn connect(config: &Config) -> anyhow::Result<(Arc<dyn Client>, Option<Local>)> {
    let socket = &config.paths.socket;
    let no_daemon = match RemoteClient::connect(socket).await {
        Ok((client, _)) => return Ok((client, None)),
        Err(e) => e,
    };
    // Say why the daemon was not used when the store cannot be opened here either (locked by a
    // daemon this user may not reach, or a data dir that is not theirs); but not for a damaged
    // store, which no daemon could serve either.
    let local = match open_local(config, Arc::new(SystemClock), false) {
        Ok(local) => local,
        Err(e)
            if e.downcast_ref::<StoreError>()
                .is_some_and(StoreError::is_damaged) =>
        {
            return Err(e);
        }
        Err(e) => {
            return Err(e.context(format!(
                "{no_daemon}; and the store could not be opened without the daemon"
            )));
        }
    };
    let caller = Account::current().actor(&config.access, std::env::var("SSH_CONNECTION").ok());
    let client: Arc<dyn Client> = InProcessClient::new(local.service.clone(), caller);
    Ok((client, Some(local)))
}

/// Closes a store this process owns cleanly (so the next open runs the quick check). Returns
/// whether it did: false when something still shares the store (it was flushed after every
/// write, but the next open runs the full check) or the final write failed.
pub fn close(local: Option<Local>) -> bool {
    let Some(local) = local else { return true };
    let store = local.engine.store().clone();
    drop(local);
    match Arc::try_unwrap(store) {
        Ok(store) => match store.close() {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!("closing the store: {e}");
                false
            }
        },
        Err(_) => {
            tracing::debug!("store still shared at exit; it was flushed after every write");
            false
        }
    }
}
