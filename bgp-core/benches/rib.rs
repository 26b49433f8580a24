//! RIB throughput and memory: the lab's scenarios without sockets.
//!
//! - `1peer_1M`: one eBGP peer announces 1M distinct IPv4 /24s in full-size UPDATEs
//!   (1000 prefixes each, one attribute set per UPDATE: 1000 distinct sets), the RIB
//!   re-advertises them to one monitor peer (UPDATE messages encoded), then the peer
//!   withdraws them all (and the monitor gets the withdrawals).
//! - `10peers_100K`: ten eBGP peers announce 100K distinct /24s each (1M prefixes), exported
//!   to one monitor peer (the ten sources have export policy `none`).
//! - `10peers_same_100K` (report only): the same 100K prefixes from each of ten peers (1M
//!   paths, ECMP sets of 10 next hops).
//!
//! A counting global allocator measures the heap: before the run `report` prints the bytes
//! per route held by the RIB after ingest (steady state) and the peak during the run, with
//! wall-clock ns per route; criterion then times each phase (sample size 10).
#![allow(unsafe_code)] // the counting global allocator
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bgp_core::policy::Policy;
use bgp_core::rib::{PeerId, PeerInfo, Rib, RibConfig};
use bgp_core::wire::{AsPath, Family, Nlri, Origin, PathAttributes, Update, WireContext};
use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use ipnet::{IpNet, Ipv4Net};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static LIVE: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = CURRENT.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every call is forwarded to the system allocator unchanged; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
            LIVE.fetch_add(1, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
        LIVE.fetch_sub(1, Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                CURRENT.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const LOCAL_AS: u32 = 65000;
const PER_UPDATE: usize = 1000;
const MONITOR: PeerId = PeerId(1000);

fn rib() -> Rib {
    Rib::new(RibConfig {
        local_as: LOCAL_AS,
        router_id: Ipv4Addr::new(198, 18, 0, 254),
        cluster_id: Ipv4Addr::new(198, 18, 0, 254),
        max_paths: 16,
    })
}

fn peer(n: u32, export: Policy) -> PeerInfo {
    PeerInfo {
        address: IpAddr::V4(Ipv4Addr::new(198, 18, 1, n as u8)),
        asn: 65001 + n,
        router_id: Ipv4Addr::new(10, 0, 0, n as u8),
        ibgp: false,
        rr_client: false,
        local_v4: Some(Ipv4Addr::new(198, 18, 0, 254)),
        local_v6: None,
        local_v6_link_local: None,
        families: vec![Family::IPV4_UNICAST],
        import: Policy::All,
        export,
        next_hop_self: false,
        next_hop_keep: false,
        allow_local_as: 0,
        enforce_first_as: true,
    }
}

/// Prefix number `i` as a /24 (`16.0.0.0/24` onwards).
fn slash24(i: u32) -> Nlri {
    let addr = Ipv4Addr::from((16u32 << 24) + (i << 8));
    Nlri::new(IpNet::V4(Ipv4Net::new(addr, 24).unwrap_or_default()))
}

/// `count` prefixes from `first` as announcements by peer `n`, 1000 per UPDATE, one
/// attribute set per UPDATE.
fn announcements(n: u32, first: u32, count: u32) -> Vec<Update> {
    let ids: Vec<u32> = (first..first + count).collect();
    ids.chunks(PER_UPDATE)
        .enumerate()
        .map(|(k, chunk)| Update {
            attributes: PathAttributes {
                origin: Some(Origin::Igp),
                as_path: Some(AsPath::from_sequence(vec![
                    65001 + n,
                    4_200_000_000 + k as u32,
                    3356,
                ])),
                next_hop: Some(Ipv4Addr::new(198, 18, 1, n as u8)),
                med: Some(k as u32 % 7),
                communities: vec![0xFDE9_0000 | (k as u32 % 100)],
                ..Default::default()
            },
            nlri: chunk.iter().map(|&i| slash24(i)).collect(),
            ..Default::default()
        })
        .collect()
}

fn withdrawals(first: u32, count: u32) -> Vec<Update> {
    let ids: Vec<u32> = (first..first + count).collect();
    ids.chunks(PER_UPDATE * 2) // 2 octets less per prefix without attributes
        .map(|chunk| Update {
            withdrawn: chunk.iter().map(|&i| slash24(i)).collect(),
            ..Default::default()
        })
        .collect()
}

/// The scenario's input: (peer number, its announcements, its withdrawals).
struct Scenario {
    name: &'static str,
    feeds: Vec<(u32, Vec<Update>, Vec<Update>)>,
    routes: usize,
}

impl Scenario {
    /// The withdrawals as the daemon handles them: each UPDATE applied, then the monitor's
    /// work flushed in pages; returns (FIB changes, UPDATE messages).
    fn withdraw_daemon(&self, rib: &mut Rib, ctx: &WireContext) -> (usize, usize) {
        let (mut fib, mut messages) = (0, 0);
        for (p, _, updates) in &self.feeds {
            for u in updates {
                if let Ok(c) = rib.apply_update(PeerId(*p), u) {
                    fib += c.fib.len();
                }
                messages += export_paged(rib, ctx).0;
            }
        }
        (fib, messages)
    }

    fn one_peer() -> Self {
        let n = 1_000_000;
        Scenario {
            name: "1peer_1M",
            feeds: vec![(1, announcements(1, 0, n), withdrawals(0, n))],
            routes: n as usize,
        }
    }

    fn ten_peers(same_prefixes: bool) -> Self {
        let n = 100_000;
        let feeds = (1..=10u32)
            .map(|p| {
                let first = if same_prefixes { 0 } else { (p - 1) * n };
                (p, announcements(p, first, n), withdrawals(first, n))
            })
            .collect();
        let name = if same_prefixes { "10peers_same_100K" } else { "10peers_100K" };
        Scenario { name, feeds, routes: 10 * n as usize }
    }

    /// A RIB with the sources and the monitor up (initial dumps taken).
    fn rib(&self) -> Rib {
        let mut rib = rib();
        let export = if self.feeds.len() == 1 { Policy::All } else { Policy::None };
        for (p, _, _) in &self.feeds {
            rib.peer_up(PeerId(*p), peer(*p, export.clone())).ok();
        }
        rib.peer_up(MONITOR, peer(200, Policy::All)).ok();
        rib.pending_updates(MONITOR).ok();
        for (p, _, _) in &self.feeds {
            rib.pending_updates(PeerId(*p)).ok();
        }
        rib
    }

    /// Bring the sources up again after `peer_down`.
    fn reconnect(&self, rib: &mut Rib) {
        let export = if self.feeds.len() == 1 { Policy::All } else { Policy::None };
        for (p, _, _) in &self.feeds {
            rib.peer_up(PeerId(*p), peer(*p, export.clone())).ok();
            rib.pending_updates(PeerId(*p)).ok();
        }
    }

    fn ingest(&self, rib: &mut Rib) -> usize {
        let mut fib = 0;
        for (p, updates, _) in &self.feeds {
            for u in updates {
                if let Ok(c) = rib.apply_update(PeerId(*p), u) {
                    fib += c.fib.len();
                }
            }
        }
        fib
    }

    fn withdraw(&self, rib: &mut Rib) -> usize {
        let mut fib = 0;
        for (p, _, updates) in &self.feeds {
            for u in updates {
                if let Ok(c) = rib.apply_update(PeerId(*p), u) {
                    fib += c.fib.len();
                }
            }
        }
        fib
    }
}

/// Flush the monitor's Adj-RIB-Out into UPDATE messages; returns (messages, octets).
fn export(rib: &mut Rib, ctx: &WireContext) -> (usize, usize) {
    let Ok(batch) = rib.pending_updates(MONITOR) else { return (0, 0) };
    let mut out = BytesMut::new();
    let messages = batch.encode(ctx, &mut out).map_or(0, |e| e.messages);
    (messages, out.len())
}

/// Flush the monitor's Adj-RIB-Out as the daemon does: pages of at most `PAGE` prefixes
/// until nothing is pending, each page encoded; returns (messages, octets).
fn export_paged(rib: &mut Rib, ctx: &WireContext) -> (usize, usize) {
    let (mut messages, mut octets) = (0, 0);
    let mut out = BytesMut::new();
    while rib.has_pending(MONITOR) {
        let Ok(batch) = rib.pending_updates_max(MONITOR, PAGE) else { break };
        out.clear();
        messages += batch.encode(ctx, &mut out).map_or(0, |e| e.messages);
        octets += out.len();
    }
    (messages, octets)
}

/// The daemon's page size for `pending_updates_max`.
const PAGE: usize = 50_000;

/// This thread's time on a CPU so far (Linux `schedstat`), to separate our cost from waiting
/// for a core on a shared machine; zero where unavailable.
fn cpu_time() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse::<u64>().ok()))
        .map_or(Duration::ZERO, Duration::from_nanos)
}

/// Wall-clock and on-CPU time of `f`.
fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration, Duration) {
    let (t, c) = (Instant::now(), cpu_time());
    let r = f();
    (r, t.elapsed(), cpu_time().saturating_sub(c))
}

fn per_route(d: Duration, routes: usize) -> f64 {
    d.as_nanos() as f64 / routes as f64
}

/// Print one phase: wall-clock and on-CPU time, per route.
fn phase(what: &str, wall: Duration, cpu: Duration, routes: usize, extra: String) {
    println!(
        "  {what}: {:.0} ms wall, {:.0} ms CPU = {:.0} ns/route wall, {:.0} ns/route CPU{extra}",
        wall.as_secs_f64() * 1e3,
        cpu.as_secs_f64() * 1e3,
        per_route(wall, routes),
        per_route(cpu, routes),
    );
}

/// One timed run with heap figures, printed for the report.
fn report(s: &Scenario) {
    let ctx = WireContext::modern();
    let base = CURRENT.load(Ordering::Relaxed);
    let base_live = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let mut rib = s.rib();
    let (fib_in, in_wall, in_cpu) = timed(|| s.ingest(&mut rib));
    let ((messages, octets), out_wall, out_cpu) = timed(|| export(&mut rib, &ctx));
    let held = CURRENT.load(Ordering::Relaxed) - base;
    let live = LIVE.load(Ordering::Relaxed) - base_live;
    let peak = PEAK.load(Ordering::Relaxed) - base;
    let stats = rib.stats();
    let ((fib_out, (wmessages, _)), w_wall, w_cpu) =
        timed(|| (s.withdraw(&mut rib), export(&mut rib, &ctx)));
    rib.compact(); // what the daemon does once the RIB is idle
    let after = CURRENT.load(Ordering::Relaxed) as isize - base as isize;
    // Session loss instead of withdrawals: the sources go down (one pass each).
    s.ingest(&mut rib);
    export(&mut rib, &ctx);
    let ((fib_down, (dmessages, _)), d_wall, d_cpu) = timed(|| {
        let mut n = 0;
        for (p, _, _) in &s.feeds {
            n += rib.peer_down(PeerId(*p)).map_or(0, |c| c.fib.len());
        }
        (n, export(&mut rib, &ctx))
    });
    // The same, exported in pages of 50_000 as the daemon does.
    s.reconnect(&mut rib);
    s.ingest(&mut rib);
    export(&mut rib, &ctx);
    let ((fib_wp, (wpmessages, _)), wp_wall, wp_cpu) =
        timed(|| (s.withdraw(&mut rib), export_paged(&mut rib, &ctx)));
    s.ingest(&mut rib);
    export(&mut rib, &ctx);
    let ((fib_wd, wdmessages), wd_wall, wd_cpu) = timed(|| s.withdraw_daemon(&mut rib, &ctx));
    s.ingest(&mut rib);
    export(&mut rib, &ctx);
    let ((fib_dp, (dpmessages, _)), dp_wall, dp_cpu) = timed(|| {
        let mut n = 0;
        for (p, _, _) in &s.feeds {
            n += rib.peer_down(PeerId(*p)).map_or(0, |c| c.fib.len());
        }
        (n, export_paged(&mut rib, &ctx))
    });
    drop(rib);
    println!(
        "{}: {} routes ({} prefixes, {} attribute sets), {} FIB changes in / {} out",
        s.name, s.routes, stats.ipv4_prefixes, stats.attribute_sets, fib_in, fib_out
    );
    phase("ingest", in_wall, in_cpu, s.routes, String::new());
    phase(
        "export to monitor",
        out_wall,
        out_cpu,
        s.routes,
        format!(" ({messages} UPDATEs, {octets} octets)"),
    );
    phase("ingest + export", in_wall + out_wall, in_cpu + out_cpu, s.routes, String::new());
    phase("withdraw all + export", w_wall, w_cpu, s.routes, format!(" ({wmessages} UPDATEs)"));
    phase(
        "peer_down + export",
        d_wall,
        d_cpu,
        s.routes,
        format!(" ({fib_down} FIB changes, {dmessages} UPDATEs)"),
    );
    phase(
        "withdraw all + paged export",
        wp_wall,
        wp_cpu,
        s.routes,
        format!(" ({fib_wp} FIB changes, {wpmessages} UPDATEs)"),
    );
    phase(
        "withdraw, paged export per UPDATE",
        wd_wall,
        wd_cpu,
        s.routes,
        format!(" ({fib_wd} FIB changes, {wdmessages} UPDATEs)"),
    );
    phase(
        "peer_down + paged export",
        dp_wall,
        dp_cpu,
        s.routes,
        format!(" ({fib_dp} FIB changes, {dpmessages} UPDATEs)"),
    );
    println!(
        "  heap held after ingest+export: {:.1} MiB = {:.1} bytes/route ({live} allocations); \
         peak {:.1} MiB = {:.1} bytes/route; after withdraw {after} bytes",
        held as f64 / 1048576.0,
        held as f64 / s.routes as f64,
        peak as f64 / 1048576.0,
        peak as f64 / s.routes as f64,
    );
}

fn bench_scenario(c: &mut Criterion, s: &Scenario) {
    let ctx = WireContext::modern();
    let mut g = c.benchmark_group(s.name);
    g.sample_size(10);
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(8));
    g.throughput(Throughput::Elements(s.routes as u64));
    g.bench_function("ingest", |b| {
        b.iter_batched(
            || s.rib(),
            |mut rib| {
                black_box(s.ingest(&mut rib));
                rib
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("ingest+export", |b| {
        b.iter_batched(
            || s.rib(),
            |mut rib| {
                black_box(s.ingest(&mut rib));
                black_box(export(&mut rib, &ctx));
                rib
            },
            BatchSize::PerIteration,
        )
    });
    // A RIB holding the scenario's routes, all exported.
    let loaded = || {
        let mut rib = s.rib();
        s.ingest(&mut rib);
        export(&mut rib, &ctx);
        rib
    };
    g.bench_function("withdraw+export", |b| {
        b.iter_batched(
            loaded,
            |mut rib| {
                black_box(s.withdraw(&mut rib));
                black_box(export(&mut rib, &ctx));
                rib
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("withdraw+paged_export", |b| {
        b.iter_batched(
            loaded,
            |mut rib| {
                black_box(s.withdraw(&mut rib));
                black_box(export_paged(&mut rib, &ctx));
                rib
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("peer_down+paged_export", |b| {
        b.iter_batched(
            loaded,
            |mut rib| {
                for (p, _, _) in &s.feeds {
                    black_box(rib.peer_down(PeerId(*p)).ok());
                }
                black_box(export_paged(&mut rib, &ctx));
                rib
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    let one = Scenario::one_peer();
    let ten = Scenario::ten_peers(false);
    report(&one);
    report(&ten);
    report(&Scenario::ten_peers(true));
    bench_scenario(c, &one);
    bench_scenario(c, &ten);
}

criterion_group!(rib_benches, benches);
criterion_main!(rib_benches);
