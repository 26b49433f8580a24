//! The control socket: accepts `bgpctl` connections on a Unix socket (mode 0600, root only)
//! and passes each request to the daemon's main loop.
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::{debug, info};

use super::protocol::{Request, Response};

/// A request and where its answer goes.
pub type ControlRequest = (Request, oneshot::Sender<Response>);

/// Longest request line accepted.
const MAX_REQUEST: usize = 64 * 1024;

/// Bind `path` (replacing a stale socket file) and serve until aborted.
pub fn spawn(
    path: &Path,
    to_daemon: mpsc::Sender<ControlRequest>,
) -> std::io::Result<JoinHandle<()>> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let _ = std::fs::remove_file(path);
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    info!(path = %path.display(), "control socket ready");
    let path: PathBuf = path.to_path_buf();
    Ok(tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    tokio::spawn(serve(stream, to_daemon.clone()));
                }
                Err(e) => {
                    debug!(error = %e, path = %path.display(), "control accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            }
        }
    }))
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
