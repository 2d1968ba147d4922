//! Serving a simulated platform on loopback. A plain `axum::serve` cannot drop one connection
//! from inside a handler, and "the write was applied, then the connection died" is the fault
//! that matters most (it is what makes a create ambiguous). So each connection gets a
//! [`ConnectionKiller`] in its request extensions; a handler that fires it has its connection
//! closed without an answer.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Closes the connection the current request arrived on.
#[derive(Clone, Debug)]
pub struct ConnectionKiller(Arc<Notify>);

impl ConnectionKiller {
    /// Drops the connection; the handler awaiting this never completes, whatever it would return.
    pub async fn kill<T>(&self) -> T {
        self.0.notify_one();
        std::future::pending().await
    }
}

/// A running loopback server; dropping it (or `shutdown`) stops accepting and closes connections.
#[derive(Debug)]
pub struct RunningServer {
    pub addr: SocketAddr,
    stop: CancellationToken,
}

impl RunningServer {
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn shutdown(&self) {
        self.stop.cancel();
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Binds `addr` (use port 0 for any free port) and serves `router` until the server is dropped.
pub async fn serve(router: Router, addr: SocketAddr) -> std::io::Result<RunningServer> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let stop = CancellationToken::new();
    let accept_stop = stop.clone();
    tokio::spawn(async move {
        loop {
            let (stream, _) = tokio::select! {
                _ = accept_stop.cancelled() => break,
                accepted = listener.accept() => match accepted {
                    Ok(conn) => conn,
                    Err(err) => {
                        tracing::warn!(%err, "sandbox accept failed");
                        continue;
                    }
                },
            };
            let killer = ConnectionKiller(Arc::new(Notify::new()));
            let router = router.clone().layer(axum::Extension(killer.clone()));
            let conn_stop = accept_stop.clone();
            tokio::spawn(async move {
                let service = TowerToHyperService::new(router);
                let conn = hyper::server::conn::http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(stream), service);
                tokio::select! {
                    _ = conn => {}
                    _ = killer.0.notified() => {}
                    _ = conn_stop.cancelled() => {}
                }
            });
        }
    });
    Ok(RunningServer { addr, stop })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;

    #[tokio::test]
    async fn a_killed_connection_gets_no_answer_and_others_still_work() {
        let app = Router::new().route("/ok", get(|| async { "fine" })).route(
            "/drop",
            get(
                |axum::Extension(k): axum::Extension<ConnectionKiller>| async move {
                    k.kill::<&'static str>().await
                },
            ),
        );
        let server = serve(app, "127.0.0.1:0".parse().unwrap()).await.unwrap();
        crate::platforms::http::install_crypto_provider();
        let client = reqwest::Client::new();
        let dropped = client
            .get(format!("{}/drop", server.base_url()))
            .send()
            .await;
        assert!(dropped.is_err(), "{dropped:?}");
        let ok = client
            .get(format!("{}/ok", server.base_url()))
            .send()
            .await
            .unwrap();
        assert_eq!(ok.text().await.unwrap(), "fine");
    }
}
