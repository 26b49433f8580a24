//! Log output: text or JSON lines on stderr, filtered by a tracing `EnvFilter` that can be
//! changed while the daemon runs. The running configuration's `log.level` (the file's, or
//! Calico's `logSeverityScreen` from the datastore when the file sets none) is applied on
//! every reload; `RUST_LOG`, when set, wins over both for the life of the process.
use std::io::IsTerminal;
use std::sync::OnceLock;

use tracing_subscriber::{reload, EnvFilter};

use crate::config::LogFormat;

type SetLevel = Box<dyn Fn(EnvFilter) -> Result<(), String> + Send + Sync>;

/// How to change the installed filter (set once, by [`init`]).
static SET_LEVEL: OnceLock<SetLevel> = OnceLock::new();

/// Installs the global subscriber. Colours only when stderr is a terminal (not under
/// journald or `kubectl logs`).
pub fn init(format: LogFormat, level: &str) {
    let from_env = std::env::var_os("RUST_LOG").is_some();
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(quiet_libraries(level)))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::stderr().is_terminal();
    let builder = tracing_subscriber::fmt().with_writer(std::io::stderr).with_ansi(ansi);
    match format {
        LogFormat::Json => {
            let builder = builder.json().with_env_filter(filter).with_filter_reloading();
            remember(builder.reload_handle(), from_env);
            builder.init();
        }
        LogFormat::Text => {
            let builder = builder.with_env_filter(filter).with_filter_reloading();
            remember(builder.reload_handle(), from_env);
            builder.init();
        }
    }
}

fn remember<S: 'static>(handle: reload::Handle<EnvFilter, S>, from_env: bool) {
    let _ = SET_LEVEL.set(Box::new(move |filter: EnvFilter| {
        if from_env {
            return Ok(());
        }
        handle.reload(filter).map_err(|e| e.to_string())
    }));
}

/// Applies `directive` (a tracing filter such as `info` or `bgpd=debug,info`) to the running
/// log output. A no-op without [`init`] (tests) or when `RUST_LOG` is set.
pub fn set_level(directive: &str) -> Result<(), String> {
    let filter = EnvFilter::try_new(quiet_libraries(directive))
        .map_err(|e| format!("`{directive}`: {e}"))?;
    match SET_LEVEL.get() {
        Some(set) => set(filter),
        None => Ok(()),
    }
}

/// The Kubernetes client logs every failed request at ERROR and its watcher every retry at
/// WARN, while bgpd already reports the datastore's state once per failure streak
/// (`datastore not reachable`, `datastore connection lost`). A plain level (`info`) therefore
/// silences those two; a directive naming targets (`bgpd=debug,kube_client=debug`) is taken
/// as written.
fn quiet_libraries(directive: &str) -> String {
    if directive.contains('=') {
        return directive.to_string();
    }
    format!("{directive},kube_client::client::builder=off,kube_runtime::watcher=error")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_level_quiets_the_kubernetes_client_and_targets_are_kept() {
        assert_eq!(
            quiet_libraries("debug"),
            "debug,kube_client::client::builder=off,kube_runtime::watcher=error"
        );
        assert_eq!(quiet_libraries("bgpd=debug,info"), "bgpd=debug,info");
        assert!(EnvFilter::try_new(quiet_libraries("warn")).is_ok());
    }

    #[test]
    fn a_bad_directive_is_refused_with_its_text() {
        let e = set_level("bgpd=lots").unwrap_err();
        assert!(e.contains("bgpd=lots"), "{e}");
        assert!(set_level("bgpd=debug,info").is_ok());
    }
}
