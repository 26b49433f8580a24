//! The control socket: accepts `bgpctl` connections on a Unix socket (mode 0600, root only)
//! and passes each request to the daemon's main loop.
//!
//! One socket path, one daemon. Before binding, the daemon takes an exclusive `flock` on
//! `<socket>.lock` (kept for its whole life, released by the kernel when it exits, however it
//! exits) and checks that nothing answers on the socket; a second daemon with the same path
//! refuses to start and leaves the first one's socket alone. On the way out the socket file is
//! removed only while it is still the one we bound (same inode): never someone else's.
use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use super::protocol::{Request, Response};

/// A request and where its answer goes.
pub type ControlRequest = (Request, oneshot::Sender<Response>);

/// Longest request line accepted.
const MAX_REQUEST: usize = 64 * 1024;

/// Why the control socket could not be bound.
#[derive(Debug)]
pub enum BindError {
    /// Another process holds `<socket>.lock`: another daemon runs with this socket path.
    Locked(PathBuf),
    /// Something answers on the socket already (a daemon that took no lock).
    InUse(PathBuf),
    Io(std::io::Error),
}

impl std::fmt::Display for BindError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BindError::Locked(lock) => write!(
                f,
                "another bgpd holds {} (is one running with this control_socket?)",
                lock.display()
            ),
            BindError::InUse(path) => {
                write!(f, "a process already answers on {}", path.display())
            }
            BindError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for BindError {}

impl From<std::io::Error> for BindError {
    fn from(e: std::io::Error) -> Self {
        BindError::Io(e)
    }
}

/// The bound control socket and its accept task. Dropping (or [`ControlServer::stop`]) ends
/// the task, removes the socket file if it is still ours, and releases the lock.
pub struct ControlServer {
    task: JoinHandle<()>,
    path: PathBuf,
    /// (device, inode) of the socket file we bound.
    identity: (u64, u64),
    /// Holds the `flock` for as long as we live.
    _lock: File,
}

impl ControlServer {
    /// The socket file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stop serving and remove our socket file.
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        self.task.abort();
        match std::fs::symlink_metadata(&self.path) {
            Ok(m) if (m.dev(), m.ino()) == self.identity => {
                if let Err(e) = std::fs::remove_file(&self.path) {
                    warn!(path = %self.path.display(), error = %e, "cannot remove the control socket");
                }
            }
            Ok(_) => {
                warn!(path = %self.path.display(), "control socket was replaced by another; left in place")
            }
            Err(_) => {}
        }
    }
}

/// `<socket>.lock`, next to the socket.
pub fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Take the exclusive lock on `<path>.lock` without waiting.
fn take_lock(path: &Path) -> Result<File, BindError> {
    let lock = lock_path(path);
    let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock)?;
    // SAFETY: flock on a descriptor we own; no memory is passed.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc != 0 {
        let e = std::io::Error::last_os_error();
        return Err(if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
            BindError::Locked(lock)
        } else {
            BindError::Io(e)
        });
    }
    std::fs::set_permissions(&lock, std::fs::Permissions::from_mode(0o600))?;
    Ok(file)
}

/// Bind `path` and serve until stopped. Refuses (and touches nothing) when another daemon
/// holds the lock or answers on the socket; a socket file nobody answers on is stale and is
/// replaced.
pub fn spawn(
    path: &Path,
    to_daemon: mpsc::Sender<ControlRequest>,
) -> Result<ControlServer, BindError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let lock = take_lock(path)?;
    if std::fs::symlink_metadata(path).is_ok() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(BindError::InUse(path.to_path_buf()));
        }
        info!(path = %path.display(), "removing a stale control socket");
        std::fs::remove_file(path)?;
    }
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    let meta = std::fs::symlink_metadata(path)?;
    info!(path = %path.display(), "control socket ready");
    let path: PathBuf = path.to_path_buf();
    let log_path = path.clone();
    let task = tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    tokio::spawn(serve(stream, to_daemon.clone()));
                }
                Err(e) => {
                    debug!(error = %e, path = %log_path.display(), "control accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            }
        }
    });
    Ok(ControlServer { task, path, identity: (meta.dev(), meta.ino()), _lock: lock })
}

async fn serve(stream: UnixStream, to_daemon: mpsc::Sender<ControlRequest>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read.take(MAX_REQUEST as u64)).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let response = match serde_json::from_str::<Request>(&line) {
            Ok(request) => {
                let (tx, rx) = oneshot::channel();
                if to_daemon.send((request, tx)).await.is_err() {
                    Response::error("daemon is shutting down")
                } else {
                    rx.await.unwrap_or_else(|_| Response::error("no answer"))
                }
            }
            Err(e) => Response::error(format!("bad request: {e}")),
        };
        let mut text = serde_json::to_string(&response).unwrap_or_else(|_| "{}".to_string());
        text.push('\n');
        if write.write_all(text.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// Client side, used by `bgpctl`: send one request, read one response.
pub async fn call(path: &Path, request: &Request) -> std::io::Result<Response> {
    let stream = UnixStream::connect(path).await?;
    let (read, mut write) = stream.into_split();
    let mut text = serde_json::to_string(request).map_err(std::io::Error::other)?;
    text.push('\n');
    write.write_all(text.as_bytes()).await?;
    let mut lines = BufReader::new(read).lines();
    let line = lines
        .next_line()
        .await?
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "no response"))?;
    serde_json::from_str(&line).map_err(std::io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_path(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("bgpd-ctl-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir.join("bgpd.sock")
    }

    #[tokio::test]
    async fn a_second_server_on_the_same_path_is_refused_and_leaves_the_first_alone() {
        let path = temp_path("second");
        let (tx, _rx) = mpsc::channel(1);
        let first = spawn(&path, tx.clone()).unwrap();
        let inode = std::fs::metadata(&path).unwrap().ino();
        let second = spawn(&path, tx.clone());
        assert!(matches!(second, Err(BindError::Locked(_))), "{:?}", second.err());
        // The first one's socket is still there and still answers.
        assert_eq!(std::fs::metadata(&path).unwrap().ino(), inode);
        assert!(UnixStream::connect(&path).await.is_ok());
        first.stop();
        assert!(!path.exists(), "our own socket is removed on the way out");
        // Once the first is gone, the path can be bound again.
        let third = spawn(&path, tx).unwrap();
        assert!(UnixStream::connect(&path).await.is_ok());
        drop(third);
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[tokio::test]
    async fn a_socket_that_answers_without_a_lock_is_not_replaced() {
        let path = temp_path("answers");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let _other = UnixListener::bind(&path).unwrap();
        let (tx, _rx) = mpsc::channel(1);
        assert!(matches!(spawn(&path, tx), Err(BindError::InUse(_))));
        assert!(path.exists());
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[tokio::test]
    async fn a_stale_socket_is_replaced_and_a_replaced_socket_is_not_removed() {
        let path = temp_path("stale");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        assert!(path.exists(), "a dead socket file from an earlier run");
        let (tx, _rx) = mpsc::channel(1);
        let server = spawn(&path, tx).unwrap();
        assert!(UnixStream::connect(&path).await.is_ok());
        // Someone replaces the file: on the way out we leave theirs in place.
        std::fs::remove_file(&path).unwrap();
        let _theirs = std::os::unix::net::UnixListener::bind(&path).unwrap();
        server.stop();
        assert!(path.exists(), "a socket that is not ours is never removed");
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }
}
