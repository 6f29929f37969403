//! TCP client sockets (`net.Socket`) on tokio, and `dns.lookup`. Each socket is split in halves
//! so a pending read never blocks a write; closing cancels a pending read. A socket holds any
//! byte stream, so tls.rs can wrap a connected one in TLS and put it back under a new id.

use deno_core::{op2, AsyncRefCell, CancelFuture, CancelHandle, JsBuffer, OpState, ToJsBuffer};
use deno_error::JsErrorBox;
use serde::Serialize;
use std::cell::RefCell;
use std::rc::Rc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};

use super::{coded, errno_code, resources};

/// A connection's byte stream: plain TCP or TLS over it.
pub trait Stream: AsyncRead + AsyncWrite + Unpin {}
impl<T: AsyncRead + AsyncWrite + Unpin> Stream for T {}

type Half<T> = Rc<AsyncRefCell<Option<T>>>;

pub struct Socket {
    reader: Half<ReadHalf<Box<dyn Stream>>>,
    writer: Half<WriteHalf<Box<dyn Stream>>>,
    cancel: Rc<CancelHandle>,
}

impl Socket {
    pub(crate) fn new(stream: Box<dyn Stream>) -> Socket {
        let (reader, writer) = tokio::io::split(stream);
        Socket { reader: AsyncRefCell::new_rc(Some(reader)), writer: AsyncRefCell::new_rc(Some(writer)), cancel: Rc::new(CancelHandle::new()) }
    }

    /// The stream whole again, once pending reads and writes have been cancelled and let go.
    pub(crate) async fn into_stream(self) -> Option<Box<dyn Stream>> {
        self.cancel.cancel();
        let reader = self.reader.borrow_mut().await.take()?;
        let writer = self.writer.borrow_mut().await.take()?;
        Some(reader.unsplit(writer))
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Connected {
    rid: u32,
    remote_address: String,
    remote_port: u16,
    remote_family: &'static str,
    local_address: String,
    local_port: u16,
}

fn family(addr: &std::net::SocketAddr) -> &'static str {
    if addr.is_ipv4() { "IPv4" } else { "IPv6" }
}

fn io_error(e: std::io::Error, syscall: &str) -> JsErrorBox {
    let code = errno_code(&e);
    coded(code, format!("{syscall} {code}"))
}

#[op2]
#[serde]
pub async fn op_node_tcp_connect(state: Rc<RefCell<OpState>>, #[string] host: String, #[smi] port: u16) -> Result<Connected, JsErrorBox> {
    let stream = tokio::net::TcpStream::connect((host.as_str(), port)).await.map_err(|e| {
        let code = errno_code(&e);
        coded(code, format!("connect {code} {host}:{port}"))
    })?;
    let (remote, local) = (stream.peer_addr(), stream.local_addr());
    let (remote, local) = (remote.map_err(|e| io_error(e, "getpeername"))?, local.map_err(|e| io_error(e, "getsockname"))?);
    let mut state = state.borrow_mut();
    let res = resources(&mut state);
    let rid = res.id();
    res.sockets.insert(rid, Socket::new(Box::new(stream)));
    Ok(Connected {
        rid,
        remote_address: remote.ip().to_string(),
        remote_port: remote.port(),
        remote_family: family(&remote),
        local_address: local.ip().to_string(),
        local_port: local.port(),
    })
}

type Handles = (Half<ReadHalf<Box<dyn Stream>>>, Half<WriteHalf<Box<dyn Stream>>>, Rc<CancelHandle>);

fn socket(state: &Rc<RefCell<OpState>>, rid: u32) -> Result<Handles, JsErrorBox> {
    let mut state = state.borrow_mut();
    let s = resources(&mut state).sockets.get(&rid).ok_or_else(closed)?;
    Ok((s.reader.clone(), s.writer.clone(), s.cancel.clone()))
}

fn closed() -> JsErrorBox {
    coded("ERR_SOCKET_CLOSED", "Socket is closed")
}

/// Up to 64 KiB that arrived, `null` once the peer closed its side.
#[op2]
#[serde]
pub async fn op_node_tcp_read(state: Rc<RefCell<OpState>>, #[smi] rid: u32) -> Result<Option<ToJsBuffer>, JsErrorBox> {
    let (reader, _, cancel) = socket(&state, rid)?;
    let mut guard = reader.borrow_mut().await;
    let half = Option::as_mut(&mut *guard).ok_or_else(closed)?;
    let mut buf = vec![0u8; 64 * 1024];
    let n = match half.read(&mut buf).or_cancel(cancel).await {
        Err(_) => return Err(closed()),
        Ok(r) => r.map_err(|e| io_error(e, "read"))?,
    };
    if n == 0 {
        return Ok(None);
    }
    buf.truncate(n);
    Ok(Some(buf.into()))
}

#[op2]
pub async fn op_node_tcp_write(state: Rc<RefCell<OpState>>, #[smi] rid: u32, #[buffer] data: JsBuffer) -> Result<(), JsErrorBox> {
    let (_, writer, cancel) = socket(&state, rid)?;
    let mut guard = writer.borrow_mut().await;
    let half = Option::as_mut(&mut *guard).ok_or_else(closed)?;
    // TLS keeps records in its buffer until flushed.
    let written = async {
        half.write_all(&data).await?;
        half.flush().await
    };
    match written.or_cancel(cancel).await {
        Err(_) => Err(closed()),
        Ok(r) => r.map_err(|e| io_error(e, "write")),
    }
}

/// Ends the writing side (Node's `socket.end()`); reading goes on.
#[op2]
pub async fn op_node_tcp_shutdown(state: Rc<RefCell<OpState>>, #[smi] rid: u32) -> Result<(), JsErrorBox> {
    let (_, writer, _) = socket(&state, rid)?;
    let mut guard = writer.borrow_mut().await;
    Option::as_mut(&mut *guard).ok_or_else(closed)?.shutdown().await.map_err(|e| io_error(e, "shutdown"))
}

#[op2(fast)]
pub fn op_node_tcp_close(state: &mut OpState, #[smi] rid: u32) {
    if let Some(s) = resources(state).sockets.remove(&rid) {
        s.cancel.cancel();
    }
}

/// The addresses a host name resolves to, as `[address, family]`, in the resolver's order.
#[op2]
#[serde]
pub async fn op_node_dns_lookup(#[string] host: String) -> Result<Vec<(String, u8)>, JsErrorBox> {
    let found = tokio::net::lookup_host((host.as_str(), 0)).await.map_err(|_| coded("ENOTFOUND", format!("getaddrinfo ENOTFOUND {host}")))?;
    let mut out: Vec<(String, u8)> = Vec::new();
    for addr in found {
        let entry = (addr.ip().to_string(), if addr.is_ipv4() { 4 } else { 6 });
        if !out.contains(&entry) {
            out.push(entry);
        }
    }
    Ok(out)
}
