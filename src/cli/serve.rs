//! `orderdeck serve`: the daemon. Owns the store, runs the engine, and serves consoles and
//! commands on the Unix socket until SIGTERM or SIGINT; then it stops polling, lets running jobs
//! finish (or releases them for the next start), closes the store cleanly and removes the socket.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::domain::clock::SystemClock;
use crate::service::socket;

use super::runtime::{close, ensure_data_dir, log_to_file, open_local};

pub async fn run(config: &Config) -> anyhow::Result<()> {
    ensure_data_dir(&config.paths.data_dir)?;
    let _log = log_to_file(&config.paths.data_dir, true);
    // Bind first: if another daemon runs, say so rather than "store locked".
    let listener = socket::bind(&config.paths.socket).await?;
    let local = match open_local(config, Arc::new(SystemClock), true) {
        Ok(local) => local,
        Err(e) => {
            let _ = std::fs::remove_file(&config.paths.socket);
            return Err(e);
        }
    };
    for skipped in &local.skipped_links {
        eprintln!("orderdeck: {skipped}");
    }
    let stop = CancellationToken::new();
    tokio::spawn(stop_on_signal(stop.clone()));
    let engine = tokio::spawn(local.engine.clone().run(stop.clone()));
    tracing::info!(
        socket = %config.paths.socket.display(),
        links = local.engine.links().len(),
        released_jobs = local.engine.store().open_report().released_jobs.len(),
        "orderdeck serve started"
    );
    socket::serve(listener, local.service.clone(), stop.clone()).await;
    let _ = engine.await;
    let _ = std::fs::remove_file(&config.paths.socket);
    close(Some(local));
    tracing::info!("orderdeck serve stopped");
    Ok(())
}

async fn stop_on_signal(stop: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot listen for SIGTERM/SIGINT; stop the daemon with SIGKILL");
        return;
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
        _ = int.recv() => tracing::info!("SIGINT: shutting down"),
    }
    stop.cancel();
}
