//! A TCP proxy in front of the local PostgreSQL that counts the round trips its clients make,
//! from the protocol's own messages: the server under test needs no help to be measured.
//!
//! A round trip is a simple query (`Q`: `BEGIN`, `COMMIT`) or an extended-protocol exchange
//! ended by a `Sync` (`S`: parse, bind, execute, …). A `Sync` with nothing before it is a
//! connection check (sqlx's ping) and is counted apart. The proxy refuses TLS (answers `N` to
//! the client's `SSLRequest`, as a server without TLS does) so that it can read the messages.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const UPSTREAM: &str = "127.0.0.1:5432";
const SSL_REQUEST: u32 = 80877103;
const GSSENC_REQUEST: u32 = 80877104;

#[derive(Default)]
struct Counters {
    round_trips: AtomicU64,
    pings: AtomicU64,
}

pub struct PgProxy {
    pub port: u16,
    counters: Arc<Counters>,
}

impl PgProxy {
    pub async fn start() -> PgProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let counters = Arc::new(Counters::default());
        let shared = counters.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(relay(client, shared.clone()));
            }
        });
        PgProxy { port, counters }
    }

    /// Round trips made so far by every connection through the proxy, pings left out.
    pub fn round_trips(&self) -> u64 {
        self.counters.round_trips.load(Ordering::SeqCst)
    }

    pub fn pings(&self) -> u64 {
        self.counters.pings.load(Ordering::SeqCst)
    }
}

async fn relay(mut client: TcpStream, counters: Arc<Counters>) {
    let Some(startup) = startup(&mut client).await else { return };
    let Ok(mut server) = TcpStream::connect(UPSTREAM).await else { return };
    if server.write_all(&startup).await.is_err() {
        return;
    }
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let answers = tokio::spawn(async move { tokio::io::copy(&mut server_read, &mut client_write).await });
    let mut pending = Vec::new();
    let mut since_sync = 0u32;
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = match client_read.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if server_write.write_all(&chunk[..n]).await.is_err() {
            break;
        }
        pending.extend_from_slice(&chunk[..n]);
        // Typed messages: a tag byte, then a length that counts itself but not the tag.
        while pending.len() >= 5 {
            let len = u32::from_be_bytes(pending[1..5].try_into().unwrap()) as usize;
            if pending.len() < 1 + len {
                break;
            }
            match pending[0] {
                b'Q' => {
                    counters.round_trips.fetch_add(1, Ordering::SeqCst);
                }
                b'S' if since_sync == 0 => {
                    counters.pings.fetch_add(1, Ordering::SeqCst);
                }
                b'S' => {
                    counters.round_trips.fetch_add(1, Ordering::SeqCst);
                    since_sync = 0;
                }
                _ => since_sync += 1,
            }
            pending.drain(..1 + len);
        }
    }
    answers.abort();
}

/// Reads the client's untyped opening messages, refusing TLS and GSS encryption, and returns
/// the startup message to forward.
async fn startup(client: &mut TcpStream) -> Option<Vec<u8>> {
    loop {
        let mut head = [0u8; 8];
        client.read_exact(&mut head).await.ok()?;
        let len = u32::from_be_bytes(head[..4].try_into().unwrap()) as usize;
        let code = u32::from_be_bytes(head[4..].try_into().unwrap());
        if code == SSL_REQUEST || code == GSSENC_REQUEST {
            client.write_all(b"N").await.ok()?;
            continue;
        }
        let mut message = head.to_vec();
        message.resize(len, 0);
        client.read_exact(&mut message[8..]).await.ok()?;
        return Some(message);
    }
}
