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
//! - shows it as down (Idle, no uptime, `bgpd_neighbor_up` 0) until the next incarnation
//!   says otherwise;
//! - starts a new incarnation after a back-off (1 s, doubling to 60 s). Commands keep being
//!   read meanwhile: `Exit` (neighbour removed, daemon shutdown) ends the supervisor, the
//!   others wait for the next incarnation. That incarnation starts administratively down if
//!   the operator had shut the session down or a maximum-prefix hold is still on (the hold
//!   itself lives in the shared status, prefix_limit.rs). The last operator `Stop`/`Start`
//!   forwarded to the panicked incarnation is given to the new one again, in case the panic
//!   came before it was processed.
//!
//! An incarnation that returns (daemon shutdown, neighbour removed) ends the supervisor.
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bgp_core::fsm::State;
use bgp_core::wire::notification::codes;
use tokio::sync::mpsc;
use tokio::task::JoinError;
use tracing::{error, info};

use super::session::SessionParams;
use super::status::SharedStatus;
use super::views;
use crate::messages::{PeerCommand, RibInput};
use crate::metrics::Metrics;

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

/// The operator's last word on the session, as forwarded to an incarnation.
#[derive(Clone, Debug)]
enum OperatorWord {
    Stop { subcode: u8, message: String },
    Start,
}

impl OperatorWord {
    /// Follows `cmd`: an operator stop or start replaces the last word; a maximum-prefix
    /// stop is not the operator's (its hold is kept in the shared status).
    fn follow(last: &mut Option<OperatorWord>, cmd: &PeerCommand) {
        match cmd {
            PeerCommand::Stop { subcode, .. } if *subcode == codes::CEASE_MAX_PREFIXES => {
                *last = None
            }
            PeerCommand::Stop { subcode, message } => {
                *last = Some(OperatorWord::Stop { subcode: *subcode, message: message.clone() })
            }
            PeerCommand::Start | PeerCommand::Reset { .. } => *last = Some(OperatorWord::Start),
            _ => {}
        }
    }

    fn command(&self) -> PeerCommand {
        match self {
            OperatorWord::Stop { subcode, message } => {
                PeerCommand::Stop { subcode: *subcode, message: message.clone() }
            }
            OperatorWord::Start => PeerCommand::Start,
        }
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
    let mut last_word: Option<OperatorWord> = None;
    // Commands received while no incarnation ran, for the next one.
    let mut pending: Vec<PeerCommand> = Vec::new();
    loop {
        let (tx, rx) = mpsc::unbounded_channel();
        for cmd in pending.drain(..) {
            let _ = tx.send(cmd);
        }
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
                        OperatorWord::follow(&mut last_word, &cmd);
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
        {
            let mut st = ctx.status.lock();
            st.last_error = Some(format!("session task panicked: {why}"));
            st.task_died();
        }
        let n = [label.as_str()];
        ctx.metrics.neighbor_state.with_label_values(&n).set(views::state_number(State::Idle));
        ctx.metrics.neighbor_up.with_label_values(&n).set(0);
        let _ = ctx.rib.send(RibInput::PeerDown { peer, graceful: false }).await;
        if exiting || forward.is_none() {
            return;
        }
        if began.elapsed() >= STABLE_AFTER {
            backoff = FIRST_BACKOFF;
        }
        // The operator's last word may have died unread with the panicked incarnation.
        let replay = last_word.clone();
        // The back-off, still listening: a removed neighbour must not come back.
        let sleep = tokio::time::sleep(backoff);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                _ = &mut sleep => break,
                cmd = commands.recv() => match cmd {
                    None | Some(PeerCommand::Exit { .. }) => {
                        info!(neighbor = %label, "session ended while waiting to restart its task");
                        return;
                    }
                    Some(cmd) => {
                        OperatorWord::follow(&mut last_word, &cmd);
                        if let PeerCommand::Reconfigure(p) = &cmd {
                            params = (**p).clone();
                        }
                        pending.push(cmd);
                    }
                },
            }
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
        // The operator's shutdown and a maximum-prefix hold outlive the incarnation.
        let held = ctx.status.lock().admin_down;
        params.neighbor.shutdown = match &last_word {
            Some(OperatorWord::Stop { .. }) => true,
            _ => held,
        };
        // Repeating it is harmless (a stop of a stopped session, a start of a started one);
        // commands received during the back-off are in `pending`, after it.
        if let Some(word) = replay {
            pending.insert(0, word.command());
        }
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

    type Seen = mpsc::UnboundedReceiver<String>;
    type Queue = mpsc::UnboundedReceiver<PeerCommand>;
    type Incarnation = std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;

    /// A session whose first incarnation runs `first` (then panics), and whose later ones
    /// report what they are started with and every command they get on the returned queue.
    fn recorder(
        first: impl FnOnce(&mut Queue) + Send + 'static,
    ) -> (impl FnMut(SessionParams, Queue) -> Incarnation, Seen, Arc<AtomicU32>) {
        let (seen_tx, seen) = mpsc::unbounded_channel::<String>();
        let incarnations = Arc::new(AtomicU32::new(0));
        let count = incarnations.clone();
        let mut first = Some(first);
        let start = move |p: SessionParams, mut rx: mpsc::UnboundedReceiver<PeerCommand>| {
            let n = count.fetch_add(1, Ordering::SeqCst);
            let seen = seen_tx.clone();
            let first = if n == 0 { first.take() } else { None };
            Box::pin(async move {
                if let Some(first) = first {
                    first(&mut rx);
                    panic!("injected fault");
                }
                let _ = seen.send(format!("started shutdown={}", p.neighbor.shutdown));
                while let Some(cmd) = rx.recv().await {
                    let _ = seen.send(format!("{cmd:?}"));
                }
            }) as Incarnation
        };
        (start, seen, incarnations)
    }

    fn context() -> (Supervised, SharedStatus, Arc<Metrics>, mpsc::Receiver<RibInput>) {
        let (rib, rib_rx) = mpsc::channel(16);
        let metrics = Arc::new(Metrics::new());
        let status = SharedStatus::new(false);
        (
            Supervised { rib, status: status.clone(), metrics: metrics.clone() },
            status,
            metrics,
            rib_rx,
        )
    }

    #[tokio::test(start_paused = true)]
    async fn a_panicked_session_does_not_look_established_during_its_back_off() {
        let (ctx, status, metrics, mut rib_rx) = context();
        let established = status.clone();
        let (m, label) = (metrics.clone(), ["198.18.0.2"]);
        let (start, _seen, _) = recorder(move |_| {
            let mut st = established.lock();
            st.state = State::Established;
            st.established_at = Some(std::time::Instant::now());
            m.neighbor_state.with_label_values(&label).set(6);
            m.neighbor_up.with_label_values(&label).set(1);
        });
        let (_tx, commands) = mpsc::unbounded_channel();
        tokio::spawn(supervise(params(), commands, start, ctx));
        assert!(matches!(rib_rx.recv().await, Some(RibInput::PeerDown { .. })));
        let st = status.lock();
        assert_eq!(st.state, State::Idle);
        assert!(st.established_at.is_none() && st.negotiated.is_none());
        assert_eq!(st.uptime_secs(), 0);
        assert_eq!(metrics.neighbor_state.with_label_values(&label).get(), 1);
        assert_eq!(metrics.neighbor_up.with_label_values(&label).get(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_neighbour_removed_during_the_back_off_is_not_restarted() {
        let (ctx, _status, _metrics, mut rib_rx) = context();
        let (start, _seen, incarnations) = recorder(|_| {});
        let (tx, commands) = mpsc::unbounded_channel();
        let supervisor = tokio::spawn(supervise(params(), commands, start, ctx));
        assert!(matches!(rib_rx.recv().await, Some(RibInput::PeerDown { .. })));
        // remove_peer: Stop, then Exit, well within the 1 s back-off.
        tx.send(PeerCommand::Stop { subcode: codes::CEASE_ADMIN_SHUTDOWN, message: String::new() })
            .unwrap();
        tx.send(PeerCommand::Exit { graceful: false }).unwrap();
        let begin = tokio::time::Instant::now();
        supervisor.await.unwrap();
        assert!(begin.elapsed() < FIRST_BACKOFF, "ended at once, not after the back-off");
        assert_eq!(incarnations.load(Ordering::SeqCst), 1, "no new incarnation");
    }

    #[tokio::test(start_paused = true)]
    async fn the_supervisor_ends_when_its_queue_closes_during_the_back_off() {
        let (ctx, _status, _metrics, mut rib_rx) = context();
        let (start, _seen, incarnations) = recorder(|_| {});
        let (tx, commands) = mpsc::unbounded_channel();
        let supervisor = tokio::spawn(supervise(params(), commands, start, ctx));
        assert!(matches!(rib_rx.recv().await, Some(RibInput::PeerDown { .. })));
        drop(tx);
        supervisor.await.unwrap();
        assert_eq!(incarnations.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_shutdown_during_the_back_off_starts_the_next_incarnation_down() {
        let (ctx, _status, _metrics, mut rib_rx) = context();
        let (start, mut seen, _) = recorder(|_| {});
        let (tx, commands) = mpsc::unbounded_channel();
        tokio::spawn(supervise(params(), commands, start, ctx));
        assert!(matches!(rib_rx.recv().await, Some(RibInput::PeerDown { .. })));
        tx.send(PeerCommand::Stop { subcode: codes::CEASE_ADMIN_SHUTDOWN, message: "m".into() })
            .unwrap();
        assert_eq!(seen.recv().await.as_deref(), Some("started shutdown=true"));
        assert!(seen.recv().await.is_some_and(|c| c.starts_with("Stop")));
    }

    #[tokio::test(start_paused = true)]
    async fn a_shutdown_the_panicked_incarnation_never_read_is_not_lost() {
        let (ctx, _status, _metrics, mut rib_rx) = context();
        // The first incarnation panics with the Stop (forwarded as soon as it was spawned)
        // unread in its queue.
        let queued = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let saw = queued.clone();
        let (start, mut seen, _) = recorder(move |rx| saw.store(!rx.is_empty(), Ordering::SeqCst));
        let (tx, commands) = mpsc::unbounded_channel();
        tx.send(PeerCommand::Stop { subcode: codes::CEASE_ADMIN_SHUTDOWN, message: "m".into() })
            .unwrap();
        let supervisor = tokio::spawn(supervise(params(), commands, start, ctx));
        assert!(matches!(rib_rx.recv().await, Some(RibInput::PeerDown { .. })));
        assert_eq!(seen.recv().await.as_deref(), Some("started shutdown=true"));
        assert!(seen.recv().await.is_some_and(|c| c.starts_with("Stop { subcode: 2")));
        assert!(queued.load(Ordering::SeqCst), "the Stop was in the dead incarnation's queue");
        drop(tx);
        supervisor.await.unwrap();
    }

    /// The max-prefix hold and its number outlive a panic: the timer armed by the dead
    /// incarnation releases exactly that hold in the next one.
    #[tokio::test(start_paused = true)]
    async fn a_max_prefix_hold_survives_a_session_restart() {
        let (ctx, status, _metrics, mut rib_rx) = context();
        let (tx, commands) = mpsc::unbounded_channel();
        let (hold_status, self_tx) = (status.clone(), tx.clone());
        let (start, mut seen, _) = recorder(move |_| {
            hold_status.lock().admin_down = true;
            super::super::prefix_limit::PrefixLimitHold::shared(hold_status.clone()).stopped(
                codes::CEASE_MAX_PREFIXES,
                Some(60),
                &self_tx,
            );
        });
        tokio::spawn(supervise(params(), commands, start, ctx));
        assert!(matches!(rib_rx.recv().await, Some(RibInput::PeerDown { .. })));
        assert_eq!(seen.recv().await.as_deref(), Some("started shutdown=true"), "still held");
        let begin = tokio::time::Instant::now();
        assert_eq!(seen.recv().await.as_deref(), Some("RestartAfterPrefixLimit { hold: 1 }"));
        assert_eq!(begin.elapsed(), Duration::from_secs(59), "the old timer, 60 s after the stop");
        let hold = super::super::prefix_limit::PrefixLimitHold::shared(status.clone());
        assert!(hold.restart_due(1), "the new incarnation honours the old hold");
        drop(tx);
    }
}
