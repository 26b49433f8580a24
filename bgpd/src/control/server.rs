//! The control socket: accepts `bgpctl` connections on a Unix socket (mode 0600, root only)
//! and passes each request to the daemon's main loop.
//!
//! One socket path, one daemon. Before binding, the daemon takes an exclusive `flock` on
//! `<socket>.lock` (kept for its whole life, released by the kernel when it exits, however it
//! exits) and checks that nothing answers on the socket; a second daemon with the same path
//! refuses to start and leaves the first one's socket alone. A file left at the path is
//! removed only when it is a socket and connecting to it is refused (a dead daemon's socket);
//! anything else (a regular file, e.g. `control_socket` pointing at bgpd.yaml by mistake, a
//! socket we may not connect to, one that does not answer in time) makes the daemon refuse to
//! start, naming the path. On the way out the socket file is removed only while it is still
//! the one we bound (same inode): never someone else's.
use std::fs::File;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use super::protocol::{Request, Response};
use crate::messages::ControlRequest;

/// Longest request line accepted.
const MAX_REQUEST: usize = 64 * 1024;

/// How long the start-up probe of an existing socket file may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// Why the control socket could not be bound.
#[derive(Debug)]
pub enum BindError {
    /// Another process holds `<socket>.lock`: another daemon runs with this socket path.
    Locked(PathBuf),
    /// Something answers on the socket already (a daemon that took no lock).
    InUse(PathBuf),
    /// Something other than a socket is at the path (it is left alone).
    NotASocket(PathBuf),
    /// A socket is at the path but we cannot tell whether it is alive (no permission, no
    /// answer in time): it is left alone.
    Unprobed(PathBuf, std::io::Error),
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
            BindError::NotASocket(path) => write!(
                f,
                "{} exists and is not a socket: refusing to replace it (is control_socket right?)",
                path.display()
            ),
            BindError::Unprobed(path, e) => write!(
                f,
                "cannot tell whether the socket {} is in use ({e}): refusing to replace it",
                path.display()
            ),
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
    // std's advisory lock is flock(2) on Linux: held until the file is closed.
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => return Err(BindError::Locked(lock)),
        Err(std::fs::TryLockError::Error(e)) => return Err(BindError::Io(e)),
    }
    std::fs::set_permissions(&lock, std::fs::Permissions::from_mode(0o600))?;
    Ok(file)
}

/// Whatever is at `path` before we bind: nothing, or a dead socket (which is removed).
/// Anything else is refused and left in place.
async fn clear_stale(path: &Path) -> Result<(), BindError> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(BindError::Io(e)),
    };
    if !meta.file_type().is_socket() {
        return Err(BindError::NotASocket(path.to_path_buf()));
    }
    match tokio::time::timeout(PROBE_TIMEOUT, UnixStream::connect(path)).await {
        Ok(Ok(_)) => Err(BindError::InUse(path.to_path_buf())),
        // Nobody listens on it: a dead daemon's socket.
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            info!(path = %path.display(), "removing a stale control socket");
            std::fs::remove_file(path)?;
            Ok(())
        }
        // Gone between the two looks: nothing to remove.
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Ok(Err(e)) => Err(BindError::Unprobed(path.to_path_buf(), e)),
        Err(_) => Err(BindError::Unprobed(
            path.to_path_buf(),
            std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer in time"),
        )),
    }
}

/// Bind `path` and serve until stopped. Refuses (and touches nothing) when another daemon
/// holds the lock or answers on the socket, or when what is at the path is not a dead socket
/// (see [`clear_stale`]); a socket file nobody listens on is stale and is replaced.
pub async fn spawn(
    path: &Path,
    to_daemon: mpsc::Sender<ControlRequest>,
) -> Result<ControlServer, BindError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let lock = take_lock(path)?;
    clear_stale(path).await?;
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
                if to_daemon.send(ControlRequest { request, reply: tx }).await.is_err() {
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
        let first = spawn(&path, tx.clone()).await.unwrap();
        let inode = std::fs::metadata(&path).unwrap().ino();
        let second = spawn(&path, tx.clone()).await;
        assert!(matches!(second, Err(BindError::Locked(_))), "{:?}", second.err());
        // The first one's socket is still there and still answers.
        assert_eq!(std::fs::metadata(&path).unwrap().ino(), inode);
        assert!(UnixStream::connect(&path).await.is_ok());
        first.stop();
        assert!(!path.exists(), "our own socket is removed on the way out");
        // Once the first is gone, the path can be bound again.
        let third = spawn(&path, tx).await.unwrap();
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
        assert!(matches!(spawn(&path, tx).await, Err(BindError::InUse(_))));
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
        let server = spawn(&path, tx).await.unwrap();
        assert!(UnixStream::connect(&path).await.is_ok());
        // Someone replaces the file: on the way out we leave theirs in place.
        std::fs::remove_file(&path).unwrap();
        let _theirs = std::os::unix::net::UnixListener::bind(&path).unwrap();
        server.stop();
        assert!(path.exists(), "a socket that is not ours is never removed");
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[tokio::test]
    async fn a_regular_file_at_the_socket_path_is_not_deleted() {
        let path = temp_path("regular");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "router_id: 198.18.0.1\n").unwrap();
        let (tx, _rx) = mpsc::channel(1);
        let refused = spawn(&path, tx).await;
        let Err(e @ BindError::NotASocket(_)) = refused else {
            panic!("expected NotASocket, got {:?}", refused.err());
        };
        assert!(e.to_string().contains(&path.display().to_string()), "{e}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "router_id: 198.18.0.1\n");
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }
}
