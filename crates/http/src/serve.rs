//! The accept loop: the router on hyper's HTTP/1 connections (as `axum::serve` runs it), plus the limit a public server needs that `axum::serve` leaves off: a client must send
//! its request head within `SERVER_HEADERS_TIMEOUT` milliseconds (default 60,000, Node's
//! `headersTimeout`, which Directus later exposed under this name) or the connection is closed.
//! A slow-loris client that trickles header bytes ties up one connection for that long, no more.
//! Hyper's own limits stay: at most 100 headers and about 400 KB of request head, answered 431.
//!
//! Graceful shutdown: when `shutdown` resolves, listening stops, every connection finishes the
//! request it is serving and closes, and [`serve`] returns once all have.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::ServiceExt;

/// Serves `router` on `listener` until `shutdown` resolves.
pub async fn serve(listener: TcpListener, router: Router, headers_timeout: Duration, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
    // Connections watch `stop`; each holds a clone of `alive`, so `closed()` waits for them all.
    let (stop, stopping) = watch::channel(false);
    let (alive, _) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection(stream, peer, router.clone(), headers_timeout, stopping.clone(), alive.subscribe()));
    }
    drop(listener);
    let _ = stop.send(true);
    alive.closed().await;
    Ok(())
}

async fn connection(stream: TcpStream, peer: SocketAddr, router: Router, headers_timeout: Duration, mut stopping: watch::Receiver<bool>, _alive: watch::Receiver<()>) {
    let service = tower::service_fn(move |mut req: axum::http::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        router.clone().oneshot(req.map(Body::new))
    });
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(headers_timeout);
    let mut conn = pin!(builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service)).with_upgrades());
    let mut stop_sent = false;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::trace!("connection from {peer} ended: {e}");
                }
                return;
            }
            changed = stopping.changed(), if !stop_sent => {
                stop_sent = true;
                if changed.is_ok() {
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}
