//! The tasks the daemon cannot run without: the RIB owner task and route-sync's kernel sync.
//! Either one ending (a panic) would leave a half-daemon: sessions up while nothing routes,
//! or the kernel frozen while `/healthz` is green. Each is watched: its end is reported to the
//! main loop, which marks the daemon failed (`/healthz`: `failed: <task> ...`), counts it
//! (`bgpd_task_panics_total`), shuts down as on SIGTERM (kernel routes left in place only
//! with graceful restart) and exits with [`EXIT_TASK_FAILED`], for the service manager to
//! restart it. (Session tasks are restarted on their own: `peer/supervisor.rs`.)
use tokio::sync::mpsc;
use tokio::task::{AbortHandle, JoinHandle};

use crate::peer::supervisor::panic_text;

/// Exit code after a critical task failed (EX_SOFTWARE, "internal software error").
pub const EXIT_TASK_FAILED: i32 = 70;

/// A critical task that ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskFailure {
    /// `rib` or `route_sync`.
    pub task: &'static str,
    /// `panicked: <message>` or `ended`.
    pub why: String,
}

/// Watches `task` and reports on `failures` if it ends by itself (a panic, or a return);
/// nothing when it was aborted (the daemon's own shutdown). Returns the handle that aborts it.
pub fn watch(
    name: &'static str,
    task: JoinHandle<()>,
    failures: mpsc::UnboundedSender<TaskFailure>,
) -> AbortHandle {
    let abort = task.abort_handle();
    tokio::spawn(async move {
        let why = match task.await {
            Ok(()) => "ended".to_string(),
            Err(e) if e.is_cancelled() => return,
            Err(e) => format!("panicked: {}", panic_text(e)),
        };
        let _ = failures.send(TaskFailure { task: name, why });
    });
    abort
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::Health;

    #[tokio::test]
    async fn a_panicking_task_is_reported_and_marks_the_daemon_failed() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let _abort = watch("rib", tokio::spawn(async { panic!("injected fault") }), tx);
        let failure = rx.recv().await.unwrap();
        assert_eq!(failure, TaskFailure { task: "rib", why: "panicked: injected fault".into() });
        let health = Health::new();
        health.daemon_beat();
        health.rib_beat();
        assert!(health.live().is_ok());
        health.set_failed(format!("{} {}", failure.task, failure.why));
        assert_eq!(health.live(), Err("failed: rib panicked: injected fault".to_string()));
        assert!(health.ready().is_err());
    }

    /// A whole daemon (no kernel, no listener) whose RIB task panics: `/healthz` turns to
    /// `failed: rib ...` and the main loop exits with [`EXIT_TASK_FAILED`] instead of running on
    /// without a RIB.
    #[tokio::test]
    async fn a_daemon_whose_rib_panics_exits_non_zero_and_says_why() {
        let dir = std::env::temp_dir().join(format!("bgpd-supervise-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let text = format!(
            "router_id: 198.18.0.1\nlocal_as: 64512\nlisten: []\nkernel: {{enabled: false}}\n\
             http_listen: null\ncontrol_socket: {}\n",
            dir.join("bgpd.sock").display()
        );
        let config = crate::config::parse(&text, "bgpd.yaml").unwrap();
        let mut daemon = super::super::Daemon::start(dir.join("bgpd.yaml"), config).await.unwrap();
        let health = daemon.health.clone();
        daemon.send_rib(crate::messages::RibInput::InjectPanic).await;
        let code = tokio::time::timeout(
            std::time::Duration::from_secs(30),
            daemon.main_loop(std::future::pending()),
        )
        .await
        .expect("the daemon exits by itself");
        assert_eq!(code, EXIT_TASK_FAILED);
        assert_eq!(health.live(), Err("failed: rib panicked: injected RIB fault".to_string()));
        assert_eq!(daemon.metrics.task_panics.with_label_values(&["rib"]).get(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn an_aborted_task_is_not_a_failure_and_a_return_is() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let abort = watch("rib", tokio::spawn(std::future::pending()), tx.clone());
        abort.abort();
        let _ = watch("route_sync", tokio::spawn(async {}), tx);
        let failure = rx.recv().await.unwrap();
        assert_eq!(failure, TaskFailure { task: "route_sync", why: "ended".into() });
        assert!(rx.recv().await.is_none(), "nothing about the aborted one");
    }
}
