//! `orderdeck serve`: the daemon. Owns the store, runs the engine, and serves consoles and
//! commands on the Unix socket until SIGTERM or SIGINT. Then, in order: it stops accepting and
//! removes the socket, stops polling, lets running jobs and requests finish within their grace
//! (jobs still running are released for the next start), closes the store cleanly (so the next
//! open runs the quick check), and only then lets go of the instance lock.

use std::sync::Arc;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::domain::clock::SystemClock;
use crate::engine::activity::Level;
use crate::service::{http, socket, webhooks};

use super::runtime::{close, ensure_data_dir, log_to_file, open_local};

/// The full integrity check a large store's open left for later (after a crash), on a thread of
/// its own while the daemon serves: reads go on, writes wait for it, and what it finds (and the
/// index rebuild it causes) goes to the log and the activity list.
fn check_in_background(engine: Arc<crate::engine::Engine>) {
    tracing::info!("store: full integrity check after a crash, in the background");
    std::thread::spawn(move || {
        let (line, level) = match engine.store().run_deferred_check() {
            Ok(Some((report, rebuilt))) => {
                match super::runtime::log_integrity(&report, rebuilt.as_ref()) {
                    Some(found) => (found, Level::Error),
                    None => (
                        format!(
                            "the store's full integrity check after a crash found nothing wrong \
                             ({} values in {:.1?})",
                            report.values, report.elapsed
                        ),
                        Level::Info,
                    ),
                }
            }
            Ok(None) => return,
            Err(e) => (
                format!("the store's integrity check failed: {e}"),
                Level::Error,
            ),
        };
        tracing::info!("{line}");
        engine
            .activity()
            .record(engine.now(), level, None, None, line);
    });
}

pub async fn run(config: &Config) -> anyhow::Result<()> {
    // Listen for signals before anything can connect: a SIGTERM must never meet the default
    // action (instant death) once clients may be talking to the daemon.
    let signals = Signals::listen().context("cannot listen for SIGTERM/SIGINT")?;
    ensure_data_dir(&config.paths.data_dir)?;
    let _log = log_to_file(&config.paths.data_dir, true);
    // Bind first: if another daemon runs, say so rather than "store locked". On any error
    // below, dropping the listener removes the socket again.
    let (listener, _instance) =
        socket::bind(&config.paths.socket, config.paths.socket_group.as_deref()).await?;
    let local = open_local(config, Arc::new(SystemClock), true)?;
    for skipped in &local.skipped_links {
        super::output::warn(format_args!("orderdeck: {skipped}"));
    }
    let stop = CancellationToken::new();
    let signals = tokio::spawn(signals.stop_on_first(stop.clone()));
    tracing::info!(
        socket = %config.paths.socket.display(),
        group = config.paths.socket_group.as_deref().unwrap_or("-"),
        links = local.engine.links().len(),
        released_jobs = local.engine.store().open_report().released_jobs.len(),
        integrity = ?local.engine.store().open_report().integrity.depth,
        "orderdeck serve started"
    );
    if local.engine.store().open_report().deferred_check {
        check_in_background(local.engine.clone());
    }
    let engine_stopped = CancellationToken::new();
    let engine = tokio::spawn({
        let (engine, stop, stopped) = (local.engine.clone(), stop.clone(), engine_stopped.clone());
        async move {
            engine.run(stop).await;
            stopped.cancel();
        }
    });
    let monitoring = match config.webhooks.listen {
        Some(listen) => {
            let inbox = webhooks::Inbox::new(local.engine.clone(), config);
            let (bound, task) = http::serve(
                listen,
                local.service.clone(),
                inbox,
                engine_stopped,
                stop.clone(),
            )
            .await
            .with_context(|| format!("cannot listen for HTTP on {listen} ([webhooks] listen)"))?;
            tracing::info!(%bound, "HTTP: /webhooks, /healthz and /metrics");
            Some(task)
        }
        None => None,
    };
    socket::serve(listener, local.service.clone(), stop.clone()).await;
    engine.await.context("the engine task failed")?;
    if let Some(task) = monitoring {
        let _ = task.await;
    }
    signals.abort();
    if close(Some(local)) {
        tracing::info!("orderdeck serve stopped; store closed cleanly");
    } else {
        tracing::warn!(
            "orderdeck serve stopped, but the store could not be closed cleanly; the next start runs a full check"
        );
    }
    Ok(())
}

struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn listen() -> std::io::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    async fn stop_on_first(mut self, stop: CancellationToken) {
        tokio::select! {
            _ = self.term.recv() => tracing::info!("SIGTERM: shutting down"),
            _ = self.int.recv() => tracing::info!("SIGINT: shutting down"),
        }
        stop.cancel();
    }
}
