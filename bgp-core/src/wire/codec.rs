//! tokio-util framing: splits whole BGP messages off the read buffer without copying.
use super::context::WireContext;

/// Frames BGP messages on a TCP stream; decodes with `rx`, encodes with `tx`.
#[derive(Clone, Debug, Default)]
pub struct BgpCodec {
    pub rx: WireContext,
    pub tx: WireContext,
}
