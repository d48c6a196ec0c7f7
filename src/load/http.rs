//! The HTTP side of the engine: prepared requests, the bounds of each exchange, and a worker's
//! connection over TCP or TLS (rustls, configured in `tls`): a keep-alive HTTP/1.1 connection
//! of its own, on `h1` (requests encoded once, responses parsed by httparse), or a share of an
//! HTTP/2 connection on hyper (`h2`) that multiplexes up to `streams_per_connection` workers'
//! requests. Where the requests go is `target`.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::http2;
use hyper::header::{HeaderName, HeaderValue};
use hyper::Method;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

pub use super::h1::Io;
use super::h1::{self, Failed, Sink, H1};
use super::h2;
pub use super::h2::Pool;
use super::recorder::{ErrorClass, Exchanged};
pub use super::target::Target;
use crate::plan::HttpVersion;

/// How the request-mix engine speaks HTTP to the target: what it sends and the bounds on each
/// exchange.
#[derive(Debug, Clone)]
pub struct Http {
    pub target: Target,
    pub requests: Vec<Prepared>,
    /// Each request as HTTP/1.1 puts it on the wire, encoded once.
    pub wires: Vec<Vec<u8>>,
    pub timeout: Duration,
    /// How long opening a connection (TCP, TLS and the HTTP handshake) may take.
    pub connect_timeout: Duration,
    /// Response bodies past this many bytes are not read: `body_too_large`.
    pub max_body: u64,
    /// Follow redirects to the target's own origin (never elsewhere).
    pub follow_redirects: bool,
    /// TLS settings for an https target.
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// The name an https connection sends in SNI and checks the certificate against.
    pub server_name: Option<ServerName<'static>>,
    /// Where connections go instead of the URL's host (`resolve`); the Host header keeps it.
    pub connect_to: Option<std::net::IpAddr>,
    /// The HTTP version asked for.
    pub version: HttpVersion,
    /// HTTP/2 connections, each shared by up to `streams_per_connection` workers; no slots when
    /// HTTP/2 cannot be spoken (HTTP/1.1 asked, or `auto` over plain http).
    pub h2: Arc<Pool>,
    /// The versions connections spoke: bit 0 HTTP/1.1, bit 1 HTTP/2.
    pub spoken: Arc<AtomicU8>,
}

/// The connect timeout unless a plan sets one (never above the request timeout).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest response body read unless a plan sets it: 4 MiB.
pub const DEFAULT_MAX_BODY: u64 = 4 * 1024 * 1024;

impl Http {
    /// Plain HTTP to `target` with the default bounds.
    pub fn new(target: Target, requests: Vec<Prepared>, timeout: Duration) -> Http {
        let wires =
            requests.iter().map(|r| h1::encode(&r.method, &r.path, &target.authority, &r.headers, &r.body)).collect();
        Http {
            target,
            requests,
            wires,
            timeout,
            connect_timeout: timeout.min(DEFAULT_CONNECT_TIMEOUT),
            max_body: DEFAULT_MAX_BODY,
            follow_redirects: false,
            tls: None,
            server_name: None,
            connect_to: None,
            version: HttpVersion::Http1,
            h2: Arc::new(Pool::default()),
            spoken: Arc::new(AtomicU8::new(0)),
        }
    }

    /// The versions the run's connections spoke, as results.json records them.
    pub fn protocol(&self) -> Option<String> {
        match self.spoken.load(Ordering::Relaxed) {
            0 => None,
            1 => Some("HTTP/1.1".into()),
            2 => Some("HTTP/2".into()),
            _ => Some("HTTP/2 and HTTP/1.1".into()),
        }
    }

    /// Opens a TCP connection to the target (or to where `resolve` sends it).
    async fn tcp(&self) -> std::io::Result<TcpStream> {
        let t = &self.target;
        match self.connect_to {
            Some(ip) => TcpStream::connect((ip, t.port)).await,
            None => TcpStream::connect((t.bare_host(), t.port)).await,
        }
    }

    /// Checks that the target accepts a TCP connection.
    pub async fn probe(&self) -> std::io::Result<()> {
        tokio::time::timeout(self.connect_timeout, self.tcp())
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"))?
            .map(|_| ())
    }

    /// Checks that a TLS handshake with an https target succeeds; `None` when it does or the
    /// target is plain HTTP.
    pub async fn probe_tls(&self) -> Option<String> {
        if !self.target.tls {
            return None;
        }
        match tokio::time::timeout(self.timeout, open(self)).await {
            Ok(Ok(_)) => None,
            Ok(Err(e)) => Some(e),
            Err(_) => Some("the TLS handshake timed out".into()),
        }
    }
}

/// One request of the mix, ready to send.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub name: String,
    pub method: Method,
    pub path: String,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Bytes,
    pub expect: Option<u16>,
    pub weight: u32,
}

/// A worker's connection. HTTP/1.1: the worker's own, read and written by the worker itself,
/// so that a request crosses no task or channel. HTTP/2: a handle on a connection that several
/// workers share, its future running as a task of its own.
pub enum Conn {
    H1(H1),
    H2 { sender: http2::SendRequest<Full<Bytes>> },
}

impl Conn {
    fn is_closed(&self) -> bool {
        match self {
            Conn::H1(h1) => h1.is_closed(),
            Conn::H2 { sender } => sender.is_closed(),
        }
    }
}

/// Opens a keep-alive HTTP/1.1 connection to the target, with a TLS handshake for https, within
/// the connect timeout; the error says what failed.
pub async fn open(http: &Http) -> Result<Conn, String> {
    tokio::time::timeout(http.connect_timeout, handshake(http)).await.unwrap_or_else(|_| {
        Err(format!(
            "no connection within the connect timeout of {}",
            crate::units::human_duration(http.connect_timeout.as_secs_f64())
        ))
    })
}

async fn handshake(http: &Http) -> Result<Conn, String> {
    let t = &http.target;
    let tcp = http.tcp().await.map_err(|e| e.to_string())?;
    let _ = tcp.set_nodelay(true);
    let (io, h2): (Box<dyn Io>, bool) = match (&http.tls, &http.server_name) {
        (Some(config), Some(name)) if t.tls => {
            const NO_H2: &str = "the server did not offer HTTP/2 (h2 by ALPN): run it with --http 1.1, or --http auto to take what it offers";
            let tls = TlsConnector::from(config.clone()).connect(name.clone(), tcp).await.map_err(|e| {
                // A server that speaks no protocol offered may refuse the handshake for it.
                if http.version == HttpVersion::Http2 && e.to_string().contains("NoApplicationProtocol") {
                    NO_H2.to_string()
                } else {
                    format!("TLS handshake failed: {e}")
                }
            })?;
            let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
            if http.version == HttpVersion::Http2 && !h2 {
                return Err(NO_H2.into());
            }
            (Box::new(tls), h2)
        }
        // Plain http: HTTP/2 only when asked, by prior knowledge (h2c).
        _ => (Box::new(tcp), http.version == HttpVersion::Http2),
    };
    if h2 {
        let sender = h2::handshake(io).await?;
        http.spoken.fetch_or(2, Ordering::Relaxed);
        return Ok(Conn::H2 { sender });
    }
    http.spoken.fetch_or(1, Ordering::Relaxed);
    Ok(Conn::H1(H1::new(io)))
}

/// Opens a connection; any failure counts as a connect error.
pub async fn connect(http: &Http) -> Result<Conn, ErrorClass> {
    open(http).await.map_err(|_| ErrorClass::Connect)
}

/// A worker's connection, opened again whenever the server closed it.
pub struct Link {
    conn: Option<Conn>,
    /// Connections opened so far; each after the first is a reconnect.
    opened: u64,
    /// The HTTP/2 slot whose connection this worker shares, when HTTP/2 may be spoken.
    slot: Option<usize>,
}

impl Link {
    /// After a request timed out: an HTTP/1.1 connection with the request still in flight
    /// cannot be reused and is dropped; an HTTP/2 stream dropped is reset, and the connection
    /// goes on.
    pub fn abandon(&mut self) {
        if matches!(self.conn, Some(Conn::H1(_))) {
            self.conn = None;
        }
    }

    /// A link over `conn`, opened before the clock started (or `None`, to open on first use).
    pub fn new(conn: Option<Conn>) -> Link {
        let opened = conn.is_some() as u64;
        Link { conn, opened, slot: None }
    }

    /// A worker's link before the clock starts: its own HTTP/1.1 connection, or a share of its
    /// slot's HTTP/2 connection (the first worker of a slot opens it) when the run has slots.
    pub async fn open(http: &Http) -> Link {
        if http.h2.slots.is_empty() {
            return Link::new(connect(http).await.ok());
        }
        let slot = http.h2.next.fetch_add(1, Ordering::Relaxed) % http.h2.slots.len();
        let mut link = Link { conn: None, opened: 0, slot: Some(slot) };
        if let Ok(conn) = Link::share(link.slot, http).await {
            link.opened = 1;
            link.conn = Some(conn);
        }
        link
    }

    /// The slot's HTTP/2 connection, opened when it has none or the one it had closed. A
    /// server that answers HTTP/1.1 instead (`auto`) gives this worker a connection of its own.
    async fn share(slot: Option<usize>, http: &Http) -> Result<Conn, ErrorClass> {
        let Some(slot) = slot.and_then(|i| http.h2.slots.get(i)) else { return connect(http).await };
        let mut held = slot.lock().await;
        if let Some(sender) = held.as_ref().filter(|s| !s.is_closed()) {
            return Ok(Conn::H2 { sender: sender.clone() });
        }
        let conn = connect(http).await?;
        if let Conn::H2 { sender } = &conn {
            *held = Some(sender.clone());
        }
        Ok(conn)
    }

    /// A connection ready for a request: the current one, or a new one when there is none or
    /// the server closed it (after a `Connection: close` response, an HTTP/1.0 answer, or an
    /// idle timeout), which `reconnects` counts.
    async fn ready(&mut self, http: &Http, reconnects: &AtomicU64) -> Result<&mut Conn, ErrorClass> {
        for _ in 0..2 {
            if self.conn.as_ref().is_none_or(Conn::is_closed) {
                self.conn = None;
                let conn = Link::share(self.slot, http).await?;
                if self.opened > 0 {
                    reconnects.fetch_add(1, Ordering::Relaxed);
                }
                self.opened += 1;
                self.conn = Some(conn);
            }
            // An HTTP/2 connection the server closed while it sat idle fails here, before
            // anything was sent on it: that is a reconnect, not an error. (HTTP/1.1 finds out
            // when its request gets nothing back: `Failed::Stale`.)
            let ready = match self.conn.as_mut().expect("opened above") {
                Conn::H1(_) => true,
                Conn::H2 { sender } => sender.ready().await.is_ok(),
            };
            if ready {
                return Ok(self.conn.as_mut().expect("ready above"));
            }
            self.conn = None;
        }
        Err(ErrorClass::Io)
    }
}

/// Redirects followed at most, when the plan asks for them.
const MAX_REDIRECTS: usize = 5;

/// Where a response sends the request next, when the plan follows redirects and it is a
/// redirect to the target's own origin: the path, and whether the request continues as GET
/// (after a 303, and after a 301 or 302 to a POST, as browsers do).
pub fn redirect<'a>(http: &Http, status: u16, location: Option<&'a str>, method: &Method) -> Option<(&'a str, bool)> {
    if !http.follow_redirects || !(300..400).contains(&status) {
        return None;
    }
    let to = http.target.same_origin(location?)?;
    Some((to, status == 303 || (status < 303 && *method == Method::POST)))
}

/// A final response is what the request expects: its `expect` status, else any 2xx.
pub fn expected(status: u16, expect: Option<u16>) -> bool {
    match expect {
        Some(e) => status == e,
        None => (200..300).contains(&status),
    }
}

/// The request of one hop: the method, the path and body, and the encoded request when it is
/// a prepared one unchanged (the first hop of the request mix).
pub struct Hop<'a> {
    pub method: &'a Method,
    pub path: &'a str,
    pub headers: &'a [(HeaderName, HeaderValue)],
    pub body: &'a Bytes,
    pub wire: Option<&'a [u8]>,
}

/// One request and its response, read to the end into `sink`: the status and where a redirect
/// points. A connection the server closed after answering, or left in an unknown state by
/// anything but an HTTP answer, is dropped, and the next request opens another; a kept-alive
/// HTTP/1.1 connection found closed when the request went out is opened again at once, once.
pub async fn exchange(
    http: &Http,
    link: &mut Link,
    reconnects: &AtomicU64,
    hop: &Hop<'_>,
    sink: &mut Sink<'_>,
) -> Result<(u16, Option<String>), ErrorClass> {
    let answer = exchange_raw(http, link, reconnects, hop, sink).await;
    if matches!(answer, Ok((_, _, true)) | Err(ErrorClass::Io | ErrorClass::Protocol | ErrorClass::BodyTooLarge)) {
        link.conn = None;
    }
    answer.map(|(status, location, _)| (status, location))
}

/// [`exchange`], with whether the server closed the connection after answering.
async fn exchange_raw(
    http: &Http,
    link: &mut Link,
    reconnects: &AtomicU64,
    hop: &Hop<'_>,
    sink: &mut Sink<'_>,
) -> Result<(u16, Option<String>, bool), ErrorClass> {
    let t = &http.target;
    for _ in 0..2 {
        match link.ready(http, reconnects).await? {
            Conn::H1(conn) => {
                let encoded;
                let wire = match hop.wire {
                    Some(w) => w,
                    None => {
                        encoded = h1::encode(hop.method, hop.path, &t.authority, hop.headers, hop.body);
                        &encoded[..]
                    }
                };
                match conn.exchange(wire, *hop.method == Method::HEAD, sink).await {
                    Ok(a) => return Ok((a.status, a.location, a.close)),
                    Err(Failed::Stale) => link.conn = None,
                    Err(Failed::Class(c)) => return Err(c),
                }
            }
            Conn::H2 { sender } => {
                let request = (hop.method, hop.path, hop.headers, hop.body);
                return h2::exchange(sender, &t.origin(), request, sink)
                    .await
                    .map(|(status, location)| (status, location, false));
            }
        }
    }
    Err(ErrorClass::Io)
}

/// Sends request `index` on the worker's connection, opening it first when needed, and
/// follows same-origin redirects when the plan asks; it gives up at its timeout or at
/// `deadline`, whichever comes first.
pub async fn send(
    http: &Http,
    link: &mut Link,
    index: usize,
    reconnects: &AtomicU64,
    deadline: tokio::time::Instant,
) -> Exchanged {
    let r = &http.requests[index];
    let mut bytes = 0u64;
    let attempt = async {
        let (mut method, mut body) = (r.method.clone(), r.body.clone());
        let mut path = std::borrow::Cow::Borrowed(r.path.as_str());
        for n in 0.. {
            let wire = (n == 0).then_some(&http.wires[index][..]);
            let hop = Hop { method: &method, path: &path, headers: &r.headers, body: &body, wire };
            let mut sink = Sink::discard(http.max_body, &mut bytes);
            let (status, location) = exchange(http, link, reconnects, &hop, &mut sink).await?;
            match redirect(http, status, location.as_deref(), &method) {
                Some((to, as_get)) if n < MAX_REDIRECTS => {
                    if as_get {
                        (method, body) = (Method::GET, Bytes::new());
                    }
                    path = std::borrow::Cow::Owned(to.to_string());
                }
                _ => return Ok(expected(status, r.expect).then_some(()).ok_or(ErrorClass::of_status(status))),
            }
        }
        unreachable!("the loop returns")
    };
    let limit = http.timeout.min(deadline.saturating_duration_since(tokio::time::Instant::now()));
    let outcome = match tokio::time::timeout(limit, attempt).await {
        Ok(outcome) => outcome.and_then(|o| o),
        Err(_) => {
            link.abandon();
            Err(ErrorClass::Timeout)
        }
    };
    Exchanged { outcome, bytes }
}
