//! A tiny SMTP receiver for tests: accepts every message on 127.0.0.1 and hands it over whole.
//! It speaks just enough ESMTP for lettre and nodemailer (EHLO, AUTH PLAIN/LOGIN, MAIL, RCPT,
//! DATA, RSET, NOOP, QUIT). Plain by default, so opportunistic TLS stays plain; or TLS from the
//! first byte, or plain offering STARTTLS, with the certificate of [`super::tls`].

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, Mutex};

/// How a sink's connections are secured.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Security {
    Plain,
    /// TLS from the first byte (port 465 style).
    Implicit,
    /// Plain, offering STARTTLS.
    StartTls,
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

#[derive(Debug, Clone, Default)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    /// The `AUTH` command line, when the client authenticated.
    pub auth: Option<String>,
    /// The message as sent (headers and body, CRLF line ends, dot-unstuffed).
    pub data: String,
    /// Whether it arrived over TLS.
    pub tls: bool,
}

impl Received {
    /// A header's value (first occurrence, unfolded).
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next()?;
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }

    /// Every text part, decoded from quoted-printable or base64, joined.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for part in self.data.split("\r\n--") {
            let Some((head, body)) = part.split_once("\r\n\r\n") else { continue };
            let head = head.to_ascii_lowercase();
            if head.contains("content-type: multipart") {
                continue;
            }
            let body = body.split("\r\n--").next().unwrap_or_default();
            if head.contains("content-transfer-encoding: base64") {
                use base64::Engine;
                let compact: String = body.split_whitespace().collect();
                out.push_str(&String::from_utf8_lossy(&base64::engine::general_purpose::STANDARD.decode(compact).unwrap_or_default()));
            } else if head.contains("content-transfer-encoding: quoted-printable") {
                out.push_str(&decode_qp(body));
            } else {
                out.push_str(body);
            }
            out.push('\n');
        }
        out
    }
}

fn decode_qp(text: &str) -> String {
    let joined = text.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub struct SmtpSink {
    pub port: u16,
    messages: Mutex<mpsc::UnboundedReceiver<Received>>,
    connections: Arc<AtomicUsize>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        SmtpSink::start_with(Security::Plain).await
    }

    pub async fn start_with(security: Security) -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, rx) = mpsc::unbounded_channel();
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = connections.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(connection(stream, tx.clone(), security));
            }
        });
        SmtpSink { port, messages: Mutex::new(rx), connections }
    }

    /// How many SMTP connections clients have opened.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// The next message received, waiting up to 15 s.
    pub async fn next(&self) -> Received {
        let mut rx = self.messages.lock().await;
        tokio::time::timeout(std::time::Duration::from_secs(15), rx.recv()).await.expect("a message within 15 s").unwrap()
    }

    /// Whether a message arrives within `ms` milliseconds.
    pub async fn nothing_within(&self, ms: u64) -> bool {
        let mut rx = self.messages.lock().await;
        tokio::time::timeout(std::time::Duration::from_millis(ms), rx.recv()).await.is_err()
    }
}

async fn connection(stream: tokio::net::TcpStream, tx: mpsc::UnboundedSender<Received>, security: Security) {
    let acceptor = super::tls::acceptor();
    match security {
        Security::Plain => {
            session(Box::new(stream), tx, Mode { tls: false, greet: true, offer_starttls: false }).await;
        }
        Security::Implicit => {
            if let Ok(tls) = acceptor.accept(stream).await {
                session(Box::new(tls), tx, Mode { tls: true, greet: true, offer_starttls: false }).await;
            }
        }
        Security::StartTls => {
            if let Some(plain) = session(Box::new(stream), tx.clone(), Mode { tls: false, greet: true, offer_starttls: true }).await {
                if let Ok(tls) = acceptor.accept(plain).await {
                    // After STARTTLS the client speaks first (EHLO again).
                    session(Box::new(tls), tx, Mode { tls: true, greet: false, offer_starttls: false }).await;
                }
            }
        }
    }
}

struct Mode {
    tls: bool,
    greet: bool,
    offer_starttls: bool,
}

/// Serves one connection until QUIT or its end; returns the stream when the client asked for
/// STARTTLS.
async fn session(stream: Box<dyn Io>, tx: mpsc::UnboundedSender<Received>, Mode { tls, greet, offer_starttls }: Mode) -> Option<Box<dyn Io>> {
    let mut lines = BufReader::new(stream);
    let mut current = Received::default();
    let mut auth = None;
    if greet {
        let _ = lines.get_mut().write_all(b"220 sink ESMTP ready\r\n").await;
    }
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
            return None;
        }
        let command = line.trim_end().to_string();
        let verb = command.split_whitespace().next().unwrap_or_default().to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" if offer_starttls => b"250-sink\r\n250-STARTTLS\r\n250-8BITMIME\r\n250-AUTH PLAIN LOGIN\r\n250 SMTPUTF8\r\n",
            "EHLO" => b"250-sink\r\n250-8BITMIME\r\n250-AUTH PLAIN LOGIN\r\n250 SMTPUTF8\r\n",
            "STARTTLS" if offer_starttls => {
                let _ = lines.get_mut().write_all(b"220 Ready to start TLS\r\n").await;
                return Some(lines.into_inner());
            }
            "HELO" | "RSET" | "NOOP" => {
                if verb == "RSET" {
                    current = Received::default();
                }
                b"250 OK\r\n"
            }
            "AUTH" => {
                auth = Some(command.clone());
                b"235 Authenticated\r\n"
            }
            "MAIL" => {
                current = Received { from: address(&command), auth: auth.clone(), tls, ..Default::default() };
                b"250 OK\r\n"
            }
            "RCPT" => {
                current.to.push(address(&command));
                b"250 OK\r\n"
            }
            "DATA" => {
                let _ = lines.get_mut().write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return None;
                    }
                    if line == ".\r\n" {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').filter(|_| line.starts_with("..")).unwrap_or(&line));
                }
                current.data = data;
                let _ = tx.send(std::mem::take(&mut current));
                b"250 Queued\r\n"
            }
            "QUIT" => {
                let _ = lines.get_mut().write_all(b"221 Bye\r\n").await;
                return None;
            }
            _ => b"502 Not implemented\r\n",
        };
        if lines.get_mut().write_all(reply).await.is_err() {
            return None;
        }
    }
}

fn address(command: &str) -> String {
    command.split_once('<').and_then(|(_, rest)| rest.split_once('>')).map(|(a, _)| a.to_string()).unwrap_or_default()
}
