//! Peers that stop reading (a zero TCP window) must not keep our sockets after the session
//! closes: 20 such connections, closed, leave no descriptor behind. Loopback only. One test
//! in this file, so that no other test opens descriptors meanwhile.
use std::time::Duration;

use bgpd::peer::connection::Connection;
use bgpd::peer::socket::{self, SocketOptions};
use bytes::{Bytes, BytesMut};
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd").expect("/proc/self/fd").count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_peers_that_never_read_leave_no_descriptors_after_close() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    // Small buffers on the peer's side: the window closes after a few KiB.
    socket2::SockRef::from(&listener).set_recv_buffer_size(4096).unwrap();
    let addr = listener.local_addr().unwrap();
    let opts = SocketOptions { user_timeout: socket::user_timeout(90), ..Default::default() };
    let before = open_descriptors();

    let mut peers = Vec::new();
    let mut ours = Vec::new();
    for _ in 0..20 {
        let (dialled, accepted) = tokio::join!(socket::connect(addr, &opts), listener.accept());
        let stream = dialled.unwrap();
        socket2::SockRef::from(&stream).set_send_buffer_size(4096).unwrap();
        peers.push(accepted.unwrap().0);
        let conn = Connection::new(stream, true, BytesMut::new(), Box::new(|| {})).unwrap();
        // Far more than both socket buffers hold: the writer blocks.
        conn.writer.send(Bytes::from(vec![0u8; 4 << 20]));
        ours.push(conn);
    }
    assert_eq!(open_descriptors(), before + 40);
    tokio::time::sleep(Duration::from_millis(200)).await;

    // The sessions close: Close to the writer, the read half dropped.
    for conn in ours.drain(..) {
        conn.writer.close();
        drop(conn);
    }
    // Our 20 sockets go within the writer's close grace.
    let mut left = open_descriptors();
    for _ in 0..150 {
        left = open_descriptors();
        if left == before + 20 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(left, before + 20, "only the peers' own ends are still open");
    // The peers see their connections reset: nothing is left in the kernel either.
    for mut peer in peers {
        let mut sink = vec![0u8; 1 << 16];
        let end = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match peer.read(&mut sink).await {
                    Ok(0) => return "closed",
                    Ok(_) => {}
                    Err(_) => return "reset",
                }
            }
        })
        .await;
        assert_eq!(end, Ok("reset"));
    }
}
