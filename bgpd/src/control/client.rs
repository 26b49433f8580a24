//! The client side of the control socket, used by `bgpctl` (`crate::bgpctl`) and the
//! daemon tests: one request line out, one response line back.
use std::path::Path;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

use super::protocol::{Request, Response};

/// Send one request to the daemon at `path`, read its response.
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
