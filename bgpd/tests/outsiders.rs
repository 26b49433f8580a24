//! What outsiders can do to a running bgpd, on loopback with kernel sync off: a second daemon
//! started with the same control socket, and a flood of connections from an address that is
//! not a neighbour. Needs no privileges.
use std::net::SocketAddr;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bgpd::control::client::call;
use bgpd::control::protocol::Request;
use bgpd::peer::source_limit::{BURST, REFILL_EVERY};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::oneshot;

fn test_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bgpd-outsiders-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A daemon without neighbours listening on `listen`, its control socket at `socket`.
fn config(socket: &Path, listen: &str, http: Option<&str>) -> String {
    let http = http.map_or("null".to_string(), |h| format!("\"{h}\""));
    format!(
        "router_id: 198.18.0.1\nlocal_as: 64512\nlisten: [\"{listen}\"]\ncontrol_socket: {}\n\
         http_listen: {http}\nkernel: {{enabled: false}}\ngraceful_restart: {{enabled: false}}\n\
         neighbors: []\n",
        socket.display()
    )
}

struct Daemon {
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<i32>,
}

fn start(dir: &Path, name: &str, text: String) -> Daemon {
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(&path, text).expect("write config");
    let config = bgpd::config::load(&path).unwrap_or_else(|e| panic!("config: {e}"));
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(bgpd::daemon::run_until(path, config, async {
        let _ = rx.await;
    }));
    Daemon { stop: Some(tx), task }
}

impl Daemon {
    async fn stop(mut self) -> i32 {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("daemon stops")
            .expect("daemon task")
    }
}

/// `ip:port` with a port free on `ip` right now (the kernel's pick), so that parallel test
/// runs do not collide on fixed ports.
fn free_addr(ip: &str) -> String {
    let probe = std::net::TcpListener::bind((ip, 0)).expect("bind a free port");
    let port = probe.local_addr().expect("local address").port();
    format!("{ip}:{port}")
}

async fn answers(socket: &Path) -> bool {
    call(socket, &Request::ShowNeighbors).await.is_ok()
}

async fn wait_until_answers(socket: &Path) {
    for _ in 0..200 {
        if answers(socket).await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the control socket {} never answered", socket.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_daemon_on_the_same_control_socket_refuses_and_leaves_the_first_alone() {
    let dir = test_dir("two");
    let socket = dir.join("bgpd.sock");
    let first = start(&dir, "first", config(&socket, &free_addr("127.0.14.1"), None));
    wait_until_answers(&socket).await;
    let inode = std::fs::metadata(&socket).expect("socket file").ino();

    let second = start(&dir, "second", config(&socket, &free_addr("127.0.14.2"), None));
    let code = tokio::time::timeout(Duration::from_secs(10), second.task)
        .await
        .expect("the second daemon gives up at once")
        .expect("daemon task");
    assert_eq!(code, 1, "the second daemon refuses to start");
    assert_eq!(std::fs::metadata(&socket).expect("still there").ino(), inode);
    assert!(answers(&socket).await, "the first daemon still answers on its socket");

    assert_eq!(first.stop().await, 0);
    assert!(!socket.exists(), "the first daemon removes its own socket");
    // And the path is free for the next daemon.
    let third = start(&dir, "third", config(&socket, &free_addr("127.0.14.3"), None));
    wait_until_answers(&socket).await;
    assert_eq!(third.stop().await, 0);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Connect from `from`, read what the daemon writes until it closes.
async fn knock(from: &str, to: SocketAddr) -> Vec<u8> {
    let sock = TcpSocket::new_v4().unwrap();
    sock.bind(SocketAddr::new(from.parse().unwrap(), 0)).unwrap();
    // A reset can overtake the completion of our connect: then nothing was written either.
    let Ok(mut stream) = sock.connect(to).await else { return Vec::new() };
    let mut got = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut got)).await;
    got
}

async fn metric(http: &str, name: &str) -> u64 {
    let mut s = TcpStream::connect(http).await.expect("http");
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: bgpd\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
        .unwrap_or_else(|| panic!("{name} not in {text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_flood_from_an_unconfigured_address_is_cut_short_and_counted() {
    let dir = test_dir("flood");
    let socket = dir.join("bgpd.sock");
    let http = free_addr("127.0.15.1");
    let http = http.as_str();
    let listen = free_addr("127.0.15.1");
    let d = start(&dir, "flood", config(&socket, &listen, Some(http)));
    wait_until_answers(&socket).await;
    let target: SocketAddr = listen.parse().unwrap();

    let began = std::time::Instant::now();
    let mut answered = 0;
    for _ in 0..20 {
        if !knock("127.0.15.9", target).await.is_empty() {
            answered += 1;
        }
    }
    // The burst gets its Cease / Connection Rejected; the rest are reset unanswered, but for
    // the tokens that came back while the knocks went on (one per REFILL_EVERY, however slow
    // this machine is).
    let refilled = began.elapsed().as_secs_f64() / REFILL_EVERY.as_secs_f64();
    let most = BURST + refilled.ceil() as u32;
    assert!((BURST..=most).contains(&answered), "{answered} answered, expected {BURST}..={most}");
    // Another source has its own allowance.
    let other = knock("127.0.15.10", target).await;
    assert_eq!(other.get(18..21), Some(&[3u8, 6, 5][..]), "NOTIFICATION Cease/5");
    // Every refusal is counted; the silent ones also as rate-limited.
    assert_eq!(metric(http, "bgpd_connections_refused_total").await, 21);
    assert_eq!(metric(http, "bgpd_connections_rate_limited_total").await, u64::from(20 - answered));
    assert_eq!(d.stop().await, 0);
    let _ = std::fs::remove_dir_all(&dir);
}
