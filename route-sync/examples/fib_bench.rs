//! 1M routes into the kernel and out again: route-sync (nexthop objects, and inline gateways)
//! against BIRD's kernel protocol, each in its own network namespace. Root only.
//!
//! ```text
//! cargo run --release -p route-sync --example fib_bench -- [ROUTES] [--no-bird] [--no-inline]
//! ```
//! Routes are /32s from 10.0.0.0/8 via 198.18.0.2 on a veth whose peer is another namespace;
//! no packet is sent. Wall time is measured from the first `set()` (BIRD: `birdc enable`) until
//! the kernel holds every route, and from the first `remove()` (BIRD: `birdc disable`) until
//! none is left; CPU seconds are user+system of the installing thread (BIRD: its process),
//! which includes the kernel's work done inside its netlink `send()` calls.
#![allow(unsafe_code)] // setns, getrusage and sysconf through libc

use std::net::{IpAddr, Ipv4Addr};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use ipnet::{IpNet, Ipv4Net};
use route_sync::{KernelConfig, Reconcile, RouteSync, SyncOptions};

fn sh(args: &[&str]) -> String {
    let out = Command::new(args[0]).args(&args[1..]).output().expect("spawn");
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

struct Lab {
    ns: String,
    peer: String,
}

impl Lab {
    fn new(name: &str) -> Lab {
        let lab = Lab { ns: format!("rs-bench-{name}"), peer: format!("rs-bench-{name}-p") };
        for ns in [&lab.ns, &lab.peer] {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
            sh(&["ip", "netns", "add", ns]);
        }
        sh(&[
            "ip", "link", "add", "veth0", "netns", &lab.ns, "type", "veth", "peer", "name",
            "veth0", "netns", &lab.peer,
        ]);
        for (ns, addr) in [(&lab.ns, "198.18.0.1/24"), (&lab.peer, "198.18.0.2/24")] {
            sh(&["ip", "-n", ns, "addr", "add", addr, "dev", "veth0"]);
            sh(&["ip", "-n", ns, "link", "set", "lo", "up"]);
            sh(&["ip", "-n", ns, "link", "set", "veth0", "up"]);
        }
        lab
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for ns in [&self.ns, &self.peer] {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
    }
}

/// `Prefixes:` of the main table in a `fib_triestat` file (IPv4 routes of a namespace).
fn fib_prefixes(path: &str) -> u64 {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let main = text.split("Main:").nth(1).unwrap_or("");
    main.lines()
        .find_map(|l| l.trim().strip_prefix("Prefixes:").map(|v| v.trim().parse().unwrap_or(0)))
        .unwrap_or(0)
}

fn thread_cpu() -> f64 {
    // SAFETY: `rusage` is plain integers, for which all-zero bytes are a valid value.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct we pass, which lives across the call.
    unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// A `VmHWM`/`VmRSS`-style line of `/proc/self/status`, in MiB.
fn status_mib(field: &str) -> f64 {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

/// Resets the process's peak RSS (`VmHWM`) to its current RSS, so that each run reports its
/// own peak.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Route `i` of the run: a /32 from 10.0.0.0/8, or with `FIB_BENCH_LEN=24` a /24 counted up
/// from 11.0.0.0 (what the BGP lab benchmark announces). `FIB_BENCH_ORDER=scatter` installs
/// them in a scattered order (route `i * 7919 mod 2^24`) instead of counting up.
fn prefix(i: u32) -> Ipv4Net {
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    let j = match var("FIB_BENCH_ORDER").as_str() {
        "scatter" => i.wrapping_mul(7919) & 0xFF_FFFF,
        "block" => {
            let b: u32 = var("FIB_BENCH_BLOCK").parse().unwrap_or(1024);
            (i / b) * b + (i % b).wrapping_mul(7919) % b
        }
        _ => i,
    };
    if var("FIB_BENCH_LEN") == "24" {
        Ipv4Net::new(Ipv4Addr::from(0x0B00_0000 + (j << 8)), 24).unwrap_or_default()
    } else {
        Ipv4Net::new(Ipv4Addr::from(0x0A00_0000 + j), 32).unwrap_or_default()
    }
}

struct Figures {
    /// Peak RSS (`VmHWM`) during the run minus RSS before it, MiB.
    rss_mib: f64,
    install_s: f64,
    install_cpu: f64,
    flush_s: f64,
    flush_cpu: f64,
}

fn run_ours(n: u32, objects: bool) -> Figures {
    let lab = Lab::new(if objects { "obj" } else { "inl" });
    reset_peak_rss();
    let rss0 = status_mib("VmRSS:");
    let path = format!("/var/run/netns/{}", lab.ns);
    std::thread::spawn(move || {
        let file = std::fs::File::open(&path).expect("netns");
        use std::os::fd::AsRawFd;
        // SAFETY: valid namespace fd; only this thread changes namespace.
        assert_eq!(unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) }, 0);
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let cfg = KernelConfig::default();
            let opts = SyncOptions { nexthop_objects: objects, ..SyncOptions::default() };
            let (rs, _events) = RouteSync::start_with(cfg, Reconcile::Now, opts).await.unwrap();
            rs.initial_sync_done();
            let stats = rs.stats();
            let gw: IpAddr = "198.18.0.2".parse().unwrap();
            let base = fib_prefixes("/proc/thread-self/net/fib_triestat");

            let (t0, c0) = (Instant::now(), thread_cpu());
            for i in 0..n {
                rs.set(IpNet::V4(prefix(i)), vec![gw]);
            }
            while stats.installed() < u64::from(n) {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let (install_s, install_cpu) = (t0.elapsed().as_secs_f64(), thread_cpu() - c0);
            let in_kernel = fib_prefixes("/proc/thread-self/net/fib_triestat") - base;
            assert_eq!(in_kernel, u64::from(n), "kernel count");
            assert_eq!(stats.install_failed(), 0);

            if std::env::var_os("FIB_BENCH_VERBOSE").is_some() {
                eprintln!("after install: VmHWM {:.0} MiB", status_mib("VmHWM:"));
            }
            let (t0, c0) = (Instant::now(), thread_cpu());
            for i in 0..n {
                rs.remove(IpNet::V4(prefix(i)));
            }
            if std::env::var_os("FIB_BENCH_VERBOSE").is_some() {
                eprintln!("remove() x{n}: {:.3} s", t0.elapsed().as_secs_f64());
            }
            while stats.installed() > 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let (flush_s, flush_cpu) = (t0.elapsed().as_secs_f64(), thread_cpu() - c0);
            assert_eq!(fib_prefixes("/proc/thread-self/net/fib_triestat"), base);
            if std::env::var_os("FIB_BENCH_VERBOSE").is_some() {
                eprintln!(
                    "removed {} netlink_errors {} install_ok {}",
                    stats.removed(),
                    stats.netlink_errors(),
                    stats.install_ok()
                );
            }
            rs.shutdown(true).await;
            Figures { rss_mib: 0.0, install_s, install_cpu, flush_s, flush_cpu }
        })
    })
    .join()
    .map(|f| Figures { rss_mib: status_mib("VmHWM:") - rss0, ..f })
    .expect("bench thread")
}

fn proc_cpu(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    // fields 14 and 15 of stat are the 12th and 13th after the command name
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    (ticks(11) + ticks(12)) / hz
}

struct Bird(Child);

impl Drop for Bird {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn run_bird(n: u32) -> Option<Figures> {
    if Command::new("bird").arg("--version").output().is_err() {
        eprintln!("bird not installed (apt-get install -y bird2): skipping BIRD");
        return None;
    }
    let lab = Lab::new("bird");
    let dir = std::env::temp_dir().join("rs-bench-bird");
    let _ = std::fs::create_dir_all(&dir);
    let conf = dir.join("bird.conf");
    let sock = dir.join("bird.ctl");
    let mut text = String::with_capacity(n as usize * 40);
    text.push_str(
        "router id 198.18.0.1;\nprotocol device {}\n\
         protocol kernel { ipv4 { import none; export all; }; metric 20; }\n\
         protocol static s1 { disabled; ipv4;\n",
    );
    for i in 0..n {
        text.push_str(&format!("  route {} via 198.18.0.2;\n", prefix(i)));
    }
    text.push_str("}\n");
    std::fs::write(&conf, text).expect("write bird.conf");
    let (conf, sock) = (conf.to_string_lossy().into_owned(), sock.to_string_lossy().into_owned());
    let child = Command::new("ip")
        .args(["netns", "exec", &lab.ns, "bird", "-f", "-c", &conf, "-s", &sock])
        .spawn()
        .expect("start bird");
    let bird = Bird(child);
    let pid = bird.0.id();
    let birdc = |cmd: &str| {
        Command::new("birdc").args(["-s", &sock, cmd]).output().map(|o| o.status.success())
    };
    let start = Instant::now();
    while !matches!(birdc("show status"), Ok(true)) {
        assert!(start.elapsed() < Duration::from_secs(120), "bird did not come up");
        std::thread::sleep(Duration::from_millis(100));
    }
    let stat = format!("/proc/{pid}/net/fib_triestat");
    let base = fib_prefixes(&stat);

    let (t0, c0) = (Instant::now(), proc_cpu(pid));
    let _ = Command::new("birdc").args(["-s", &sock, "enable", "s1"]).output();
    while fib_prefixes(&stat) < base + u64::from(n) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let (install_s, install_cpu) = (t0.elapsed().as_secs_f64(), proc_cpu(pid) - c0);

    let (t0, c0) = (Instant::now(), proc_cpu(pid));
    let _ = Command::new("birdc").args(["-s", &sock, "disable", "s1"]).output();
    while fib_prefixes(&stat) > base {
        std::thread::sleep(Duration::from_millis(20));
    }
    let (flush_s, flush_cpu) = (t0.elapsed().as_secs_f64(), proc_cpu(pid) - c0);
    drop(bird);
    let _ = std::fs::remove_dir_all(&dir);
    Some(Figures { rss_mib: 0.0, install_s, install_cpu, flush_s, flush_cpu })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: u32 = args.iter().find_map(|a| a.parse().ok()).unwrap_or(1_000_000);
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        println!("SKIP: needs root (network namespaces)");
        return;
    }
    let mut rows = Vec::new();
    rows.push(("route-sync, nexthop objects", Some(run_ours(n, true))));
    if !args.iter().any(|a| a == "--no-inline") {
        rows.push(("route-sync, inline gateways", Some(run_ours(n, false))));
    }
    let rss = status_mib("VmHWM:");
    if !args.iter().any(|a| a == "--no-bird") {
        rows.push(("BIRD 2 kernel protocol (static)", run_bird(n)));
    }
    println!("{n} IPv4 /32 routes via one gateway (bench process VmHWM {rss:.0} MiB)");
    println!("| implementation | install s | install CPU s | flush s | flush CPU s | peak RSS growth MiB |");
    println!("|---|---|---|---|---|---|");
    for (name, f) in rows {
        if let Some(f) = f {
            let rss = if f.rss_mib > 0.0 { format!("{:.0}", f.rss_mib) } else { "-".into() };
            println!(
                "| {name} | {:.2} | {:.2} | {:.2} | {:.2} | {rss} |",
                f.install_s, f.install_cpu, f.flush_s, f.flush_cpu
            );
        }
    }
}
