//! Every message one of the daemon's tasks sends another, and who sends what to whom. The
//! tasks live elsewhere (named below); they share these types and nothing else, so `peer/`
//! (sessions, listener, writers) and `routing/` (the RIB owner task) do not import each other.
//!
//! ```text
//!  bgpctl                    etcd                                      SIGHUP, SIGTERM
//!    | unix socket             |                                              |
//!  control server            datastore client                                 |
//!  (control/server.rs)       (datastore/etcd.rs)                              |
//!    | ControlRequest (64)     | DatastoreEvent (256)                         |
//!    v                         v                                              v
//!  daemon main loop (daemon/mod.rs; control requests: daemon/requests.rs) <-- TaskFailure
//!    |                                          |           (unbounded) from the watchers of
//!    | PeerCommand (unbounded)                  | RibInput  the RIB and route-sync tasks
//!    v                                          v (4096)    (daemon/supervise.rs)
//!  session supervisor <-- PeerCommand::       RIB owner task (routing/task.rs)
//!  (peer/supervisor.rs)   Incoming from the     |     ^                    ^
//!    | PeerCommand        listener              |     |                    |
//!    v (forwarded)        (peer/listener.rs)    |     |                    |
//!  session task --- RibInput (never waits) -----|---->+                    |
//!  (peer/session.rs)                            |     |                    |
//!    ^ <-- PeerCommand (AutomaticStop, Stop, ---+     |                    |
//!    |      Reset)                              |     |                    |
//!    | writer::Control (unbounded)              |     |                    |
//!    v                                          |     |                    |
//!  writer task <-- UPDATE chunks (16 a peer) ---+     |                    |
//!  (peer/writer.rs) --- RibInput::Writable -----|---->+                    |
//!    | TCP                                      |                          | KernelEvent
//!    v                                          v RouteSync handle         | (1024)
//!  the peer                                   route-sync task (route-sync crate) --> kernel FIB
//! ```
//!
//! | message | sent by | received by (owner of the receiver) | queue |
//! |---|---|---|---|
//! | [`RibInput`] | daemon main loop, sessions, session supervisors (a panicked session's PeerDown), writers (drained) | RIB owner task (`routing::spawn`) | bounded, 4096; a session never waits on it (`peer/session/rib_feed.rs`), writers `try_send` |
//! | [`PeerCommand`] (a `Reconfigure` carries [`SessionParams`]) | daemon main loop, listener, RIB, the session itself (its max-prefix `restart_after` timer) | session supervisor, which forwards to the running session | unbounded |
//! | UPDATE chunks ([`UpdateSender`]) | RIB owner task | the connection's writer task ([`update_queue::UpdateReceiver`]) | bounded, [`update_queue::UPDATE_QUEUE_CHUNKS`]; `try_send`, the RIB waits for `Writable` |
//! | `peer::writer::Control` | its session (`WriterHandle`) | the writer task | unbounded, served before UPDATEs |
//! | [`KernelEvent`] | route-sync task | RIB owner task | bounded, 1024 (route-sync's) |
//! | [`ControlRequest`] | control server (a task per `bgpctl` connection) | daemon main loop | bounded, 64 |
//! | [`DatastoreEvent`] | datastore client (etcd or Kubernetes list and watch) | daemon main loop (`daemon/cluster.rs`) | bounded, 256 |
//! | `daemon::supervise::TaskFailure` | watchers of the RIB and route-sync tasks | daemon main loop | unbounded |
//!
//! Questions carry their answer's `oneshot` sender ([`RibInput::Query`],
//! [`ControlRequest::reply`]). The RIB drives route-sync through its [`route_sync::RouteSync`]
//! handle: route changes go into route-sync's shared state and wake its task; snapshots and
//! shutdown are commands on route-sync's own queue. The HTTP endpoint (`http.rs`) reads the
//! shared `Metrics` and `Health` and sends nothing. Session-internal queues (dial results, a
//! held connection's first OPEN) stay in `peer/session.rs`.
pub mod control_request;
pub mod peer_command;
pub mod rib_input;
pub mod rib_query;
pub mod session_params;
pub mod update_queue;

pub use crate::datastore::event::DatastoreEvent;
pub use control_request::ControlRequest;
pub use peer_command::PeerCommand;
pub use rib_input::{GlobalSettings, PeerKey, PeerSettings, RibInput};
pub use rib_query::{Query, QueryAnswer};
pub use route_sync::KernelEvent;
pub use session_params::{SessionParams, SocketOptions};
pub use update_queue::UpdateSender;
