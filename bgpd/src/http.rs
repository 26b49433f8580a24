//! The HTTP endpoint (hyper): `/metrics` (Prometheus text), `/healthz`, `/readyz`.
//!
//! Whoever can reach it must not be able to starve the sessions: a request's header must
//! arrive within [`HttpLimits::header_read_timeout`] (which also bounds how long a keep-alive
//! connection may sit idle), no connection lives longer than
//! [`HttpLimits::max_connection_age`], and at most [`HttpLimits::max_connections`] are open at
//! once (a small fraction of the descriptor limit), at most a quarter of them from one source
//! address, and the last two places only from loopback (so a local `/healthz` probe still gets
//! in); connections over a cap are closed at once, counted
//! (`bgpd_http_connections_refused_total`) and logged (thinned). See admission.rs.
mod admission;

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use crate::health::Health;
use crate::log_limit::{LogLimiter, Verdict};
use crate::metrics::Metrics;

#[derive(Clone)]
pub struct HttpState {
    pub metrics: Arc<Metrics>,
    pub health: Arc<Health>,
}

/// Bounds of the HTTP endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpLimits {
    /// A request's header must be in within this; also the longest idle wait for the next
    /// request on a keep-alive connection.
    pub header_read_timeout: Duration,
    /// A connection is closed after this long (after the response under way, if any).
    pub max_connection_age: Duration,
    /// Connections open at once; more are closed as soon as they are accepted. One source
    /// holds at most a quarter of them; up to two are kept for loopback.
    pub max_connections: usize,
}

/// Most connections the endpoint ever holds (Prometheus needs one or two).
pub const MAX_CONNECTIONS: usize = 64;
/// The endpoint holds at most this fraction (1/N) of the descriptor limit.
pub const DESCRIPTOR_SHARE: u64 = 16;

impl HttpLimits {
    /// The defaults, with the cap at most 1/[`DESCRIPTOR_SHARE`] of `descriptor_limit`.
    pub fn for_descriptor_limit(descriptor_limit: u64) -> HttpLimits {
        let share = usize::try_from(descriptor_limit / DESCRIPTOR_SHARE).unwrap_or(usize::MAX);
        HttpLimits {
            header_read_timeout: Duration::from_secs(10),
            max_connection_age: Duration::from_secs(60),
            max_connections: share.clamp(1, MAX_CONNECTIONS),
        }
    }
}

/// Bind `addr` and serve with limits sized for the process's descriptor limit.
pub async fn spawn(addr: SocketAddr, state: HttpState) -> std::io::Result<JoinHandle<()>> {
    let nofile = crate::fd_limit::soft_limit().unwrap_or(1024);
    spawn_with(addr, state, HttpLimits::for_descriptor_limit(nofile)).await
}

/// [`spawn`] with explicit limits.
pub async fn spawn_with(
    addr: SocketAddr,
    state: HttpState,
    limits: HttpLimits,
) -> std::io::Result<JoinHandle<()>> {
    let listener = TcpListener::bind(addr).await?;
    info!(
        addr = %listener.local_addr()?,
        max_connections = limits.max_connections,
        "HTTP endpoint ready (/metrics /healthz /readyz)"
    );
    Ok(serve_on(listener, state, limits))
}

/// Serve on a bound listener.
pub fn serve_on(listener: TcpListener, state: HttpState, limits: HttpLimits) -> JoinHandle<()> {
    tokio::spawn(accept_loop(listener, state, limits))
}

async fn accept_loop(listener: TcpListener, state: HttpState, limits: HttpLimits) {
    let admission = admission::Admission::new(limits.max_connections);
    let mut log = LogLimiter::<IpAddr>::new(Duration::from_secs(60), 5, 1024);
    loop {
        let (stream, from) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                debug!(error = %e, "HTTP accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let permit = match admission.admit(from.ip()) {
            Ok(ticket) => ticket,
            Err(why) => {
                state.metrics.http_connections_refused.inc();
                // SO_LINGER 0: the descriptor and the connection go at once.
                let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
                drop(stream);
                let decision = log.check(from.ip(), Instant::now());
                if let Some(n) = decision.summary {
                    warn!(suppressed = n, "HTTP refusal log lines suppressed in the last minute");
                }
                if let Verdict::Log { suppressed } = decision.verdict {
                    warn!(
                        source = %from,
                        suppressed,
                        max_connections = limits.max_connections,
                        per_source = admission.per_source(),
                        "HTTP connection refused: {}",
                        why.as_str()
                    );
                }
                continue;
            }
        };
        let state = state.clone();
        tokio::spawn(async move {
            serve(stream, state, limits).await;
            drop(permit);
        });
    }
}

async fn serve(stream: TcpStream, state: HttpState, limits: HttpLimits) {
    let service = service_fn(move |req| handle(req, state.clone()));
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let result = tokio::select! {
        r = conn.as_mut() => r,
        _ = tokio::time::sleep(limits.max_connection_age) => {
            conn.as_mut().graceful_shutdown();
            // The response under way gets one more header-timeout's worth of time.
            match tokio::time::timeout(limits.header_read_timeout, conn.as_mut()).await {
                Ok(r) => r,
                Err(_) => Ok(()),
            }
        }
    };
    if let Err(e) = result {
        debug!(error = %e, "HTTP connection");
    }
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

    #[test]
    fn the_cap_is_a_small_share_of_the_descriptor_limit() {
        assert_eq!(HttpLimits::for_descriptor_limit(1024).max_connections, 64);
        assert_eq!(HttpLimits::for_descriptor_limit(256).max_connections, 16);
        assert_eq!(HttpLimits::for_descriptor_limit(1 << 20).max_connections, MAX_CONNECTIONS);
        assert_eq!(HttpLimits::for_descriptor_limit(0).max_connections, 1);
    }

    /// Reads until the server closes; `true` if it did within 5 s.
    async fn closed_by_server(stream: &mut TcpStream) -> bool {
        use tokio::io::AsyncReadExt;
        let mut buf = [0u8; 64];
        let wait = async {
            loop {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(5), wait).await.is_ok()
    }

    /// The server refused the connection: reset (SO_LINGER 0) or closed without a byte of
    /// response, within 5 s (the tests' header timeout is a minute, so it cannot be that).
    async fn refused(stream: &mut TcpStream) -> bool {
        use tokio::io::AsyncReadExt;
        let mut buf = [0u8; 64];
        match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await {
            Ok(Ok(0)) => true,
            Ok(Err(e)) => e.kind() == std::io::ErrorKind::ConnectionReset,
            Ok(Ok(_)) | Err(_) => false,
        }
    }

    /// A connection from `source` (any 127/8 address: all are on `lo`).
    async fn connect_from(source: [u8; 4], to: SocketAddr) -> TcpStream {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::from((source, 0))).unwrap();
        socket.connect(to).await.unwrap()
    }

    async fn get(stream: &mut TcpStream, path: &str) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let request = format!("GET {path} HTTP/1.1\r\nHost: bgpd\r\nConnection: close\r\n\r\n");
        // A refused connection reads as an empty answer.
        let mut answer = String::new();
        if stream.write_all(request.as_bytes()).await.is_ok() {
            let _ = stream.read_to_string(&mut answer).await;
        }
        answer
    }

    fn server(max_connections: usize, header_read_timeout: Duration) -> (HttpState, HttpLimits) {
        let state =
            HttpState { metrics: Arc::new(Metrics::new()), health: Arc::new(Health::new()) };
        let limits = HttpLimits {
            header_read_timeout,
            max_connection_age: Duration::from_secs(600),
            max_connections,
        };
        (state, limits)
    }

    #[tokio::test]
    async fn idle_connections_cannot_exhaust_the_endpoint() {
        // A minute of header timeout: nothing in this test is closed by it.
        let (state, limits) = server(8, Duration::from_secs(60));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = serve_on(listener, state.clone(), limits);
        // Four sources with two idle connections each take the whole cap...
        let mut idle = Vec::new();
        for source in 1..=4u8 {
            for _ in 0..2 {
                idle.push(connect_from([127, 0, 0, source], addr).await);
            }
        }
        // ...so the next ones are refused at once, without a response, and counted.
        for _ in 0..3 {
            let mut over = connect_from([127, 0, 0, 5], addr).await;
            assert!(refused(&mut over).await, "a connection over the cap is refused");
        }
        assert_eq!(state.metrics.http_connections_refused.get(), 3);
        // Their places are free again once they go (the server sees them close): a scrape
        // works.
        drop(idle);
        let mut answer = String::new();
        for _ in 0..250 {
            let mut scrape = connect_from([127, 0, 0, 5], addr).await;
            answer = get(&mut scrape, "/metrics").await;
            if !answer.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.contains("bgpd_http_connections_refused_total"));
        server.abort();
    }

    #[tokio::test]
    async fn one_source_cannot_hold_the_endpoint_against_a_health_probe() {
        let (state, limits) = server(8, Duration::from_secs(60));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = serve_on(listener, state.clone(), limits);
        // One client keeps idle connections: it gets a quarter of the cap, no more.
        let mut hog = Vec::new();
        for _ in 0..2 {
            hog.push(connect_from([127, 0, 0, 2], addr).await);
        }
        for _ in 0..4 {
            let mut over = connect_from([127, 0, 0, 2], addr).await;
            assert!(refused(&mut over).await, "over its share");
        }
        assert_eq!(state.metrics.http_connections_refused.get(), 4);
        // The probe from elsewhere is answered.
        let mut probe = connect_from([127, 0, 0, 3], addr).await;
        assert!(get(&mut probe, "/healthz").await.starts_with("HTTP/1.1 200"));
        server.abort();
    }

    #[tokio::test]
    async fn a_connection_that_sends_no_header_is_closed_after_the_header_timeout() {
        let (state, limits) = server(8, Duration::from_millis(300));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = serve_on(listener, state.clone(), limits);
        let mut idle = TcpStream::connect(addr).await.unwrap();
        assert!(closed_by_server(&mut idle).await, "an idle connection is closed");
        assert_eq!(state.metrics.http_connections_refused.get(), 0, "closed, not refused");
        server.abort();
    }
}
