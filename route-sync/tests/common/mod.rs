//! Network-namespace lab for the integration tests: two namespaces joined by a veth pair,
//! removed again when the guard drops. Tests run their body on a thread that entered the
//! namespace (setns) with its own current-thread tokio runtime.
#![allow(unsafe_code)] // setns(2) into the test's namespace
#![allow(dead_code)]

use std::future::Future;
use std::net::IpAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

pub const PROTO: u8 = 186;

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Skips the calling test (returns from it) when not root.
#[macro_export]
macro_rules! require_root {
    () => {
        if !common::is_root() {
            eprintln!("SKIP: needs root for network namespaces");
            return;
        }
    };
}

pub fn sh(args: &[&str]) -> String {
    let out = Command::new(args[0]).args(&args[1..]).output().expect("spawn");
    assert!(out.status.success(), "{:?} failed: {}", args, String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `rs-<name>` (where route-sync runs) and `rs-<name>-p` (the peer side), joined by `veth0`:
/// 198.18.0.1/24 + 2001:db8::1/64 on ours, .2/.3 and ::2/::3 on the peer's.
pub struct Lab {
    pub ns: String,
    pub peer: String,
}

impl Lab {
    pub fn new(name: &str) -> Lab {
        let lab = Lab { ns: format!("rs-{name}"), peer: format!("rs-{name}-p") };
        let _ = Command::new("ip").args(["netns", "del", &lab.ns]).output();
        let _ = Command::new("ip").args(["netns", "del", &lab.peer]).output();
        sh(&["ip", "netns", "add", &lab.ns]);
        sh(&["ip", "netns", "add", &lab.peer]);
        sh(&[
            "ip", "link", "add", "veth0", "netns", &lab.ns, "type", "veth", "peer", "name",
            "veth0", "netns", &lab.peer,
        ]);
        for (ns, addrs) in [
            (&lab.ns, &["198.18.0.1/24", "2001:db8::1/64"][..]),
            (
                &lab.peer,
                &["198.18.0.2/24", "198.18.0.3/24", "2001:db8::2/64", "2001:db8::3/64"][..],
            ),
        ] {
            for a in addrs {
                let mut args = vec!["ip", "-n", ns, "addr", "add", a, "dev", "veth0"];
                if a.contains(':') {
                    args.push("nodad");
                }
                sh(&args);
            }
            sh(&["ip", "-n", ns, "link", "set", "lo", "up"]);
            sh(&["ip", "-n", ns, "link", "set", "veth0", "up"]);
        }
        lab
    }

    /// `ip -n <ours> <args>`
    pub fn ip(&self, args: &[&str]) -> String {
        let mut all = vec!["ip", "-n", &self.ns];
        all.extend_from_slice(args);
        sh(&all)
    }

    /// Our routes of protocol `proto`, both families, as `ip -j` reports them.
    pub fn routes(&self, proto: u8) -> Vec<Value> {
        self.routes_of(&proto.to_string())
    }

    /// Routes with `proto <p>` (name or number), both families.
    pub fn routes_of(&self, proto: &str) -> Vec<Value> {
        let mut out = Vec::new();
        for family in ["-4", "-6"] {
            let text = self.ip(&[family, "-j", "route", "show", "proto", proto]);
            if let Ok(Value::Array(v)) = serde_json::from_str::<Value>(&text) {
                out.extend(v);
            }
        }
        out
    }

    /// The route for `dst` of protocol `proto`, if present.
    pub fn route(&self, proto: u8, dst: &str) -> Option<Value> {
        self.routes(proto).into_iter().find(|r| r["dst"] == dst)
    }

    /// Runs `body` on a thread inside our namespace with a current-thread runtime.
    pub fn run<F, Fut>(&self, body: F)
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ()>,
    {
        let path = format!("/var/run/netns/{}", self.ns);
        std::thread::spawn(move || {
            enter_netns(&path);
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(body());
        })
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e));
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).output();
        let _ = Command::new("ip").args(["netns", "del", &self.peer]).output();
    }
}

fn enter_netns(path: &str) {
    let file = std::fs::File::open(path).expect("open netns");
    use std::os::fd::AsRawFd;
    // SAFETY: a valid namespace fd; only this thread changes namespace.
    let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
    assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
}

/// Gateways of a route as `ip -j` shows it (single or multipath).
pub fn gateways(route: &Value) -> Vec<String> {
    let mut out: Vec<String> = match route["nexthops"].as_array() {
        Some(hops) => hops.iter().filter_map(|h| h["gateway"].as_str().map(String::from)).collect(),
        None => route["gateway"].as_str().map(String::from).into_iter().collect(),
    };
    out.sort();
    out
}

/// Polls `cond` (blocking calls to `ip` are fine here) until it holds or `secs` pass.
pub async fn wait_until(secs: f64, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    loop {
        if cond() {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

pub fn net(s: &str) -> ipnet::IpNet {
    s.parse().unwrap()
}

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}
