//! The HTTP endpoint (hyper): `/metrics` (Prometheus text), `/healthz`, `/readyz`.
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tracing::{debug, info};

use crate::health::Health;
use crate::metrics::Metrics;

#[derive(Clone)]
pub struct HttpState {
    pub metrics: Arc<Metrics>,
    pub health: Arc<Health>,
}

pub async fn spawn(addr: SocketAddr, state: HttpState) -> std::io::Result<JoinHandle<()>> {
    let listener = TcpListener::bind(addr).await?;
    info!(%addr, "HTTP endpoint ready (/metrics /healthz /readyz)");
    Ok(tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            };
            let state = state.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| handle(req, state.clone()));
                if let Err(e) =
                    http1::Builder::new().serve_connection(TokioIo::new(stream), service).await
                {
                    debug!(error = %e, "HTTP connection");
                }
            });
        }
    }))
}

async fn handle(
    req: Request<Incoming>,
    state: HttpState,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (status, content_type, body) = route(req.uri().path(), &state);
    Ok(Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))))
}

fn route(path: &str, state: &HttpState) -> (StatusCode, &'static str, String) {
    const TEXT: &str = "text/plain; charset=utf-8";
    match path {
        "/metrics" => (StatusCode::OK, "text/plain; version=0.0.4", state.metrics.render()),
        "/healthz" => match state.health.live() {
            Ok(()) => (StatusCode::OK, TEXT, "ok\n".to_string()),
            Err(e) => (StatusCode::SERVICE_UNAVAILABLE, TEXT, format!("{e}\n")),
        },
        "/readyz" => match state.health.ready() {
            Ok(()) => (StatusCode::OK, TEXT, "ready\n".to_string()),
            Err(e) => (StatusCode::SERVICE_UNAVAILABLE, TEXT, format!("{e}\n")),
        },
        _ => (StatusCode::NOT_FOUND, TEXT, "not found\n".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_answer_with_status() {
        let state =
            HttpState { metrics: Arc::new(Metrics::new()), health: Arc::new(Health::new()) };
        state.metrics.kernel_routes_installed.set(3);
        let (s, _, body) = route("/metrics", &state);
        assert_eq!(s, StatusCode::OK);
        assert!(body.contains("bgpd_kernel_routes_installed 3"));
        assert_eq!(route("/healthz", &state).0, StatusCode::OK);
        assert_eq!(route("/readyz", &state).0, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(route("/nope", &state).0, StatusCode::NOT_FOUND);
    }
}
