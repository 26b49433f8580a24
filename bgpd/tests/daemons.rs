//! Two (or more) bgpd daemons in one process, peering over loopback addresses with kernel
//! sync off: sessions, route exchange, reload without flaps, a rejected reload, admin
//! shutdown, and hostile connections. Needs no privileges.
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use bgpd::control::client::call;
use bgpd::control::protocol::{Request, Response};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;
use tokio::sync::oneshot;

struct Node {
    dir: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<i32>,
}

impl Node {
    fn socket(&self) -> PathBuf {
        self.dir.join("bgpd.sock")
    }

    fn config_path(&self) -> PathBuf {
        self.dir.join("bgpd.yaml")
    }

    async fn ask(&self, request: Request) -> Response {
        call(&self.socket(), &request).await.expect("control socket answers")
    }

    async fn neighbors(&self) -> Vec<Value> {
        self.ask(Request::ShowNeighbors).await.data.as_array().cloned().unwrap_or_default()
    }

    async fn neighbor(&self, addr: &str) -> Value {
        self.neighbors().await.into_iter().find(|n| n["address"] == addr).unwrap_or(Value::Null)
    }

    async fn prefixes(&self) -> Vec<String> {
        let r = self
            .ask(Request::ShowRoutes {
                prefix: None,
                received_from: None,
                advertised_to: None,
                explain: false,
            })
            .await;
        r.data
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["prefix"].as_str().map(String::from))
            .collect()
    }

    async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), self.task).await;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn test_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bgpd-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// `neighbors`: (address, port, remote_as, extra YAML lines for the neighbour).
fn config_text(
    dir: &Path,
    ip: &str,
    port: u16,
    asn: u32,
    originate: &[&str],
    neighbors: &[(&str, u16, u32, &str)],
) -> String {
    let mut t = format!(
        "router_id: {ip}\nlocal_as: {asn}\nlisten: [\"{ip}:{port}\"]\ncontrol_socket: {}\nhttp_listen: null\n\
         kernel: {{enabled: false}}\ngraceful_restart: {{enabled: false}}\noriginate: [{}]\nneighbors:\n",
        dir.join("bgpd.sock").display(),
        originate.iter().map(|p| format!("\"{p}\"")).collect::<Vec<_>>().join(", ")
    );
    for (addr, nport, nas, extra) in neighbors {
        t.push_str(&format!(
            "  - address: {addr}\n    port: {nport}\n    remote_as: {nas}\n    local_address: {ip}\n    hold_time: 9\n    connect_retry: 1\n"
        ));
        if *nas != asn {
            t.push_str("    import: all\n    export: all\n");
        }
        for line in extra.lines().filter(|l| !l.trim().is_empty()) {
            t.push_str(&format!("    {}\n", line.trim()));
        }
    }
    t
}

/// A node named `name` with the configuration of [`config_text`].
async fn node(
    name: &str,
    ip: &str,
    port: u16,
    asn: u32,
    originate: &[&str],
    neighbors: &[(&str, u16, u32, &str)],
) -> Node {
    start(name, config_text(&test_dir(name), ip, port, asn, originate, neighbors)).await
}

async fn start(name: &str, text: String) -> Node {
    let dir = test_dir(name);
    let path = dir.join("bgpd.yaml");
    std::fs::write(&path, text).expect("write config");
    let config = bgpd::config::load(&path).unwrap_or_else(|e| panic!("config: {e}"));
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(bgpd::daemon::run_until(path, config, async {
        let _ = rx.await;
    }));
    let node = Node { dir, stop: Some(tx), task };
    for _ in 0..100 {
        if node.socket().exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    node
}

async fn wait_for<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..150 {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn established(node: &Node, addr: &str) -> bool {
    node.neighbor(addr).await["state"] == "Established"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ibgp_pair_exchanges_routes_and_reload_does_not_flap() {
    let a = node(
        "ibgp-a",
        "127.0.10.1",
        17901,
        64512,
        &["198.19.1.0/24"],
        &[("127.0.10.2", 17902, 64512, "")],
    )
    .await;
    let b = node(
        "ibgp-b",
        "127.0.10.2",
        17902,
        64512,
        &["198.19.2.0/24"],
        &[("127.0.10.1", 17901, 64512, "")],
    )
    .await;
    wait_for("session up", || established(&a, "127.0.10.2")).await;
    wait_for("B's prefix at A", || async {
        a.prefixes().await.contains(&"198.19.2.0/24".to_string())
    })
    .await;
    wait_for("A's prefix at B", || async {
        b.prefixes().await.contains(&"198.19.1.0/24".to_string())
    })
    .await;
    let n = a.neighbor("127.0.10.2").await;
    assert_eq!(n["prefixes_received"], 1);
    assert_eq!(n["prefixes_advertised"], 1);
    assert_eq!(n["established_count"], 1);

    // Reload A with one more originated prefix: B learns it, the session does not flap.
    let text = config_text(
        &a.dir,
        "127.0.10.1",
        17901,
        64512,
        &["198.19.1.0/24", "198.19.11.0/24"],
        &[("127.0.10.2", 17902, 64512, "")],
    );
    std::fs::write(a.config_path(), text).unwrap();
    let r = a.ask(Request::Reload).await;
    assert!(r.ok, "{r:?}");
    wait_for("new prefix at B", || async {
        b.prefixes().await.contains(&"198.19.11.0/24".to_string())
    })
    .await;
    assert_eq!(b.neighbor("127.0.10.1").await["established_count"], 1);

    // A broken file is rejected with its line, and the running configuration stays.
    std::fs::write(a.config_path(), "router_id: 127.0.10.1\nlocal_as: [oops]\n").unwrap();
    let r = a.ask(Request::Reload).await;
    assert!(!r.ok);
    let err = r.error.unwrap_or_default();
    assert!(err.contains(":2:") && err.contains("local_as"), "{err}");
    assert!(established(&a, "127.0.10.2").await);
    assert!(b.prefixes().await.contains(&"198.19.11.0/24".to_string()));

    // Withdrawal: B stops originating; A removes the route.
    let text =
        config_text(&b.dir, "127.0.10.2", 17902, 64512, &[], &[("127.0.10.1", 17901, 64512, "")]);
    std::fs::write(b.config_path(), text).unwrap();
    assert!(b.ask(Request::Reload).await.ok);
    wait_for("withdrawal at A", || async {
        !a.prefixes().await.contains(&"198.19.2.0/24".to_string())
    })
    .await;
    assert_eq!(a.neighbor("127.0.10.2").await["established_count"], 1);

    // Administrative shutdown and enable.
    let addr: IpAddr = "127.0.10.2".parse().unwrap();
    assert!(
        a.ask(Request::NeighborShutdown { address: addr, message: Some("maintenance".into()) })
            .await
            .ok
    );
    wait_for("session down", || async { !established(&a, "127.0.10.2").await }).await;
    let n = b.neighbor("127.0.10.1").await;
    wait_for("peer sees the shutdown message", || async {
        b.neighbor("127.0.10.1").await["last_error"].as_str().unwrap_or("").contains("maintenance")
    })
    .await;
    let _ = n;
    assert!(a.ask(Request::NeighborEnable { address: addr }).await.ok);
    wait_for("session back", || established(&a, "127.0.10.2")).await;
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ebgp_prepends_and_stopping_a_node_withdraws_its_routes() {
    let a = node(
        "ebgp-a",
        "127.0.11.1",
        17911,
        64601,
        &["198.19.21.0/24"],
        &[("127.0.11.2", 17912, 64602, "")],
    )
    .await;
    let b =
        node("ebgp-b", "127.0.11.2", 17912, 64602, &[], &[("127.0.11.1", 17911, 64601, "")]).await;
    wait_for("route at B", || async { b.prefixes().await.contains(&"198.19.21.0/24".to_string()) })
        .await;
    let r = b
        .ask(Request::ShowRoutes {
            prefix: Some("198.19.21.0/24".parse().unwrap()),
            received_from: None,
            advertised_to: None,
            explain: true,
        })
        .await;
    let path = &r.data[0]["paths"][0];
    assert_eq!(path["as_path"], "64601");
    assert_eq!(path["next_hop"], "127.0.11.1");
    assert_eq!(path["best"], true);
    a.stop().await;
    wait_for("withdrawn at B", || async {
        !b.prefixes().await.contains(&"198.19.21.0/24".to_string())
    })
    .await;
    // The node comes back: both sides dial and accept at once; exactly one connection must
    // survive (RFC 4271 §6.8) and the route return.
    let a = node(
        "ebgp-a2",
        "127.0.11.1",
        17911,
        64601,
        &["198.19.21.0/24"],
        &[("127.0.11.2", 17912, 64602, "")],
    )
    .await;
    wait_for("route back at B", || async {
        b.prefixes().await.contains(&"198.19.21.0/24".to_string())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(established(&b, "127.0.11.1").await);
    assert!(established(&a, "127.0.11.2").await);
    a.stop().await;
    b.stop().await;
}

/// Connect from `from` to `to` and return what the daemon writes before closing.
async fn raw_exchange(from: &str, to: SocketAddr, send: &[u8]) -> Vec<u8> {
    let sock = TcpSocket::new_v4().unwrap();
    sock.bind(SocketAddr::new(from.parse().unwrap(), 0)).unwrap();
    let mut stream = sock.connect(to).await.expect("connect");
    let _ = stream.write_all(send).await;
    let mut got = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut got)).await;
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_connections_get_notifications_and_do_not_disturb_others() {
    let a = node(
        "host-a",
        "127.0.12.1",
        17921,
        64512,
        &["198.19.31.0/24"],
        &[("127.0.12.2", 17922, 64512, ""), ("127.0.12.4", 17924, 64512, "passive: true")],
    )
    .await;
    let b =
        node("host-b", "127.0.12.2", 17922, 64512, &[], &[("127.0.12.1", 17921, 64512, "")]).await;
    wait_for("session up", || established(&a, "127.0.12.2")).await;
    let target: SocketAddr = "127.0.12.1:17921".parse().unwrap();

    // Unknown source: Cease / Connection Rejected, nothing parsed.
    let got = raw_exchange("127.0.12.3", target, b"garbage").await;
    assert!(got.len() >= 21, "{got:?}");
    assert_eq!(&got[18..21], &[3, 6, 5], "NOTIFICATION Cease/5");

    // A configured peer sending a bad marker: Message Header Error / Connection Not
    // Synchronized.
    let mut bad = vec![0u8; 19];
    bad[16..18].copy_from_slice(&19u16.to_be_bytes());
    bad[18] = 4;
    let got = raw_exchange("127.0.12.4", target, &bad).await;
    // Our OPEN may come first; find the NOTIFICATION.
    let notif = find_notification(&got).expect("a NOTIFICATION");
    assert_eq!(notif, (1, 1));

    // An oversized message header: Bad Message Length with the length as data.
    let mut big = vec![0xffu8; 16];
    big.extend_from_slice(&5000u16.to_be_bytes());
    big.push(2);
    let got = raw_exchange("127.0.12.4", target, &big).await;
    assert_eq!(find_notification(&got), Some((1, 2)));

    // A flood of connections from an unknown source.
    let mut floods = Vec::new();
    for _ in 0..50 {
        floods.push(tokio::spawn(raw_exchange("127.0.12.5", target, b"")));
    }
    for f in floods {
        let _ = f.await;
    }

    // The real session never noticed.
    assert!(established(&a, "127.0.12.2").await);
    assert_eq!(a.neighbor("127.0.12.2").await["established_count"], 1);
    assert!(b.prefixes().await.contains(&"198.19.31.0/24".to_string()));
    a.stop().await;
    b.stop().await;
}

/// (code, subcode) of the first NOTIFICATION in a byte stream of BGP messages.
fn find_notification(mut bytes: &[u8]) -> Option<(u8, u8)> {
    while bytes.len() >= 19 {
        let len = usize::from(u16::from_be_bytes([bytes[16], bytes[17]]));
        if bytes[18] == 3 && bytes.len() >= 21 {
            return Some((bytes[19], bytes[20]));
        }
        if len < 19 || len > bytes.len() {
            return None;
        }
        bytes = &bytes[len..];
    }
    None
}
