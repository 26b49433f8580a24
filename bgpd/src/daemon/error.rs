//! The daemon's errors: why it could not start ([`StartError`]), why a socket it serves on
//! could not be opened ([`SocketError`]), why a reload was rejected ([`ReloadError`]). Each
//! prints the text operators see: the `cannot start` and `reload rejected` log lines and the
//! answer to `bgpctl reload`. (A connection's first OPEN has its own error,
//! `peer::connection::FirstOpenError`; the control socket's refusals are
//! `control::server::BindError`.)
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::config::ConfigErrors;
use crate::control::server::BindError;

/// Why the daemon did not start. It touched nothing it would have to undo: the control socket
/// comes first, so a second daemon stops before the kernel is touched.
#[derive(Debug)]
pub enum StartError {
    /// A socket the daemon serves on.
    Socket(SocketError),
    /// route-sync could not open its netlink sockets or read the kernel's routes.
    KernelSync(io::Error),
}

/// A socket the daemon serves on that could not be opened.
#[derive(Debug)]
pub enum SocketError {
    /// `control_socket`: another daemon, or something that is not a dead socket at the path.
    ControlSocket { path: PathBuf, error: BindError },
    /// `http_listen`: the metrics and health endpoint.
    HttpListen { addr: SocketAddr, error: io::Error },
}

/// Why a reload changed nothing: the running configuration stays.
#[derive(Debug)]
pub enum ReloadError {
    /// The file does not load (each problem with its file:line:column).
    Config(ConfigErrors),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Socket(e) => fmt::Display::fmt(e, f),
            StartError::KernelSync(e) => write!(f, "kernel route sync: {e}"),
        }
    }
}

impl fmt::Display for SocketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SocketError::ControlSocket { path, error } => {
                write!(f, "control socket {}: {error}", path.display())
            }
            SocketError::HttpListen { addr, error } => write!(f, "http_listen {addr}: {error}"),
        }
    }
}

impl fmt::Display for ReloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReloadError::Config(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StartError::Socket(e) => Some(e),
            StartError::KernelSync(e) => Some(e),
        }
    }
}

impl std::error::Error for SocketError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SocketError::ControlSocket { error, .. } => Some(error),
            SocketError::HttpListen { error, .. } => Some(error),
        }
    }
}

impl std::error::Error for ReloadError {}

impl From<SocketError> for StartError {
    fn from(e: SocketError) -> Self {
        StartError::Socket(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The texts are what operators (and the tests that grep logs) see.
    #[test]
    fn errors_print_the_texts_operators_know() {
        let e = StartError::from(SocketError::ControlSocket {
            path: "/run/bgpd/bgpd.sock".into(),
            error: BindError::InUse("/run/bgpd/bgpd.sock".into()),
        });
        assert_eq!(
            e.to_string(),
            "control socket /run/bgpd/bgpd.sock: a process already answers on /run/bgpd/bgpd.sock"
        );
        let addr: SocketAddr = "127.0.0.1:9179".parse().unwrap();
        let e = StartError::from(SocketError::HttpListen {
            addr,
            error: io::Error::new(io::ErrorKind::AddrInUse, "in use"),
        });
        assert_eq!(e.to_string(), "http_listen 127.0.0.1:9179: in use");
        let e = StartError::KernelSync(io::Error::new(io::ErrorKind::PermissionDenied, "denied"));
        assert_eq!(e.to_string(), "kernel route sync: denied");
    }
}
