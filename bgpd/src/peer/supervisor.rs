//! Supervision of a session task: a panic in one session must not leave a half-daemon (the
//! neighbour's routes installed for ever, its commands going nowhere).
//!
//! The supervisor owns the neighbour's command queue and hands each incarnation of the session
//! a queue of its own, forwarding to it; so the senders the daemon, the listener and the RIB
//! hold stay valid across restarts. When an incarnation panics, the supervisor
//! - tells the RIB the session went down (no graceful restart: its routes are flushed, as
//!   nothing says the panicked session left a sane state behind);
//! - logs it, counts it (`bgpd_task_panics_total{task="session"}`) and shows it in
//!   `bgpctl show neighbors` (last error);
//! - starts a new incarnation after a back-off (1 s, doubling to 60 s; commands wait meanwhile,
//!   those the panicked incarnation had already taken are lost), administratively down if the
//!   operator had shut the session down.
//!
//! An incarnation that returns (daemon shutdown, neighbour removed) ends the supervisor.
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinError;
use tracing::{error, info};

use super::session::SessionParams;
use super::status::SharedStatus;
use super::PeerCommand;
use crate::metrics::Metrics;
use crate::routing::input::RibInput;

/// First restart delay after a panic; doubles with each further one, up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_secs(1);
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// An incarnation that ran this long without panicking resets the back-off.
const STABLE_AFTER: Duration = Duration::from_secs(300);

/// What a supervised session needs besides its parameters.
pub struct Supervised {
    pub rib: mpsc::Sender<RibInput>,
    pub status: SharedStatus,
    pub metrics: Arc<Metrics>,
}

/// The text of a task's panic, for logs.
pub fn panic_text(e: JoinError) -> String {
    if !e.is_panic() {
        return "cancelled".to_string();
    }
    let payload = e.into_panic();
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic without a message".to_string()
    }
}

/// Runs incarnations of a session made by `start` (in production `Session::new(..).run()`)
/// until one returns, restarting those that panic.
pub async fn supervise<S, F>(
    mut params: SessionParams,
    mut commands: mpsc::UnboundedReceiver<PeerCommand>,
    mut start: S,
    ctx: Supervised,
) where
    S: FnMut(SessionParams, mpsc::UnboundedReceiver<PeerCommand>) -> F,
    F: Future<Output = ()> + Send + 'static,
{
    let peer = params.neighbor.address;
    let label = peer.to_string();
    let mut backoff = FIRST_BACKOFF;
    loop {
        let (tx, rx) = mpsc::unbounded_channel();
        let began = tokio::time::Instant::now();
        let mut task = tokio::spawn(start(params.clone(), rx));
        let mut forward = Some(tx);
        let mut exiting = false;
        let ended = loop {
            tokio::select! {
                ended = &mut task => break ended,
                cmd = commands.recv(), if forward.is_some() => match cmd {
                    Some(cmd) => {
                        exiting |= matches!(cmd, PeerCommand::Exit { .. });
                        if let PeerCommand::Reconfigure(p) = &cmd {
                            params = (**p).clone();
                        }
                        if let Some(tx) = &forward {
                            let _ = tx.send(cmd);
                        }
                    }
                    // Every sender is gone: the session sees its queue close and exits.
                    None => forward = None,
                },
            }
        };
        let why = match ended {
            Ok(()) => return,
            Err(e) => panic_text(e),
        };
        ctx.metrics.task_panics.with_label_values(&["session"]).inc();
        error!(neighbor = %label, panic = %why, "session task panicked: its routes are flushed and it is restarted");
        ctx.status.lock().last_error = Some(format!("session task panicked: {why}"));
        let _ = ctx.rib.send(RibInput::PeerDown { peer, graceful: false }).await;
        if exiting || forward.is_none() {
            return;
        }
        if began.elapsed() >= STABLE_AFTER {
            backoff = FIRST_BACKOFF;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
        // The operator's shutdown outlives the incarnation that received it.
        params.neighbor.shutdown = ctx.status.lock().admin_down;
        info!(neighbor = %label, "restarting the session task");
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn params() -> SessionParams {
        let text = "router_id: 198.18.0.1\nlocal_as: 64512\nneighbors:\n  - address: 198.18.0.2\n    remote_as: 64512\n";
        let config = crate::config::parse(text, "bgpd.yaml").unwrap();
        crate::peer::params::session_params(&config, &config.neighbors[0], false)
    }

    /// A session that panics in its first two incarnations, then reports the commands it
    /// receives (and whether it was started shut down) on `seen`.
    #[tokio::test(start_paused = true)]
    async fn a_panicked_session_is_flushed_from_the_rib_and_restarted_with_back_off() {
        let (rib, mut rib_rx) = mpsc::channel(16);
        let metrics = Arc::new(Metrics::new());
        let status = SharedStatus::new(false);
        let ctx = Supervised { rib, status: status.clone(), metrics: metrics.clone() };
        let (commands_tx, commands) = mpsc::unbounded_channel();
        let (seen_tx, mut seen) = mpsc::unbounded_channel::<String>();
        let incarnations = Arc::new(AtomicU32::new(0));
        let count = incarnations.clone();
        let start = move |p: SessionParams, mut rx: mpsc::UnboundedReceiver<PeerCommand>| {
            let n = count.fetch_add(1, Ordering::SeqCst);
            let seen = seen_tx.clone();
            async move {
                if n < 2 {
                    panic!("injected fault {n}");
                }
                let _ = seen.send(format!("started shutdown={}", p.neighbor.shutdown));
                while let Some(cmd) = rx.recv().await {
                    let exit = matches!(cmd, PeerCommand::Exit { .. });
                    let _ = seen.send(format!("{cmd:?}"));
                    if exit {
                        return;
                    }
                }
            }
        };
        let begin = tokio::time::Instant::now();
        let supervisor = tokio::spawn(supervise(params(), commands, start, ctx));
        // First panic: the RIB is told the session is down, not gracefully.
        match rib_rx.recv().await {
            Some(RibInput::PeerDown { peer, graceful }) => {
                assert_eq!(peer.to_string(), "198.18.0.2");
                assert!(!graceful);
            }
            other => panic!("expected PeerDown, got {other:?}"),
        }
        assert!(status
            .lock()
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("injected fault 0")));
        // The operator shuts it down while it is down: the next incarnations start shut down.
        status.lock().admin_down = true;
        assert!(matches!(rib_rx.recv().await, Some(RibInput::PeerDown { .. })));
        // A command sent during the back-off waits for the next incarnation.
        commands_tx.send(PeerCommand::Start).unwrap();
        assert_eq!(seen.recv().await.as_deref(), Some("started shutdown=true"));
        // Back-off: 1 s after the first panic, 2 s after the second.
        assert_eq!(begin.elapsed(), Duration::from_secs(3));
        assert_eq!(incarnations.load(Ordering::SeqCst), 3);
        assert_eq!(metrics.task_panics.with_label_values(&["session"]).get(), 2);
        assert_eq!(seen.recv().await.as_deref(), Some("Start"));
        commands_tx.send(PeerCommand::Exit { graceful: true }).unwrap();
        assert_eq!(seen.recv().await.as_deref(), Some("Exit { graceful: true }"));
        supervisor.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_session_that_returns_is_not_restarted() {
        let (rib, mut rib_rx) = mpsc::channel(16);
        let ctx =
            Supervised { rib, status: SharedStatus::new(false), metrics: Arc::new(Metrics::new()) };
        let (_tx, commands) = mpsc::unbounded_channel();
        supervise(params(), commands, |_, _| async {}, ctx).await;
        assert!(rib_rx.try_recv().is_err());
    }
}
