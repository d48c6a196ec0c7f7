//! HTTP/1.1 on one keep-alive connection, for the request-mix engine: each request of the mix
//! encoded once before the run, written as it is, and its response parsed with `httparse` (the
//! parser hyper itself uses) and its body counted and discarded without a header map, a body
//! frame or a channel per request. Every bound the target could stretch is held here: a head
//! past 64 KiB or 100 headers is a protocol error, a chunk-size line or trailer section past
//! its limit too, and a body past `max_body` is not read.

use hyper::header::{HeaderName, HeaderValue, CONTENT_LENGTH, HOST};
use hyper::Method;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::recorder::ErrorClass;

/// A byte stream a connection runs over: TCP, or TLS over TCP.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A response head (status line and headers) past this is a protocol error, not memory spent.
pub const MAX_HEAD: usize = 64 * 1024;
/// Headers a response head may have.
const MAX_HEADERS: usize = 100;
/// A chunk-size line (with its extensions) past this is a protocol error.
const MAX_LINE: usize = 4 * 1024;
/// How much is read at once: bodies are read through this buffer and discarded.
const READ_BUF: usize = 16 * 1024;

/// Encodes a request's head and body as they go on the wire: the request line, a Host header
/// (unless the request sets its own), the request's headers, a Content-Length for a body (or for
/// an empty POST, PUT or PATCH), and the body.
pub fn encode(
    method: &Method,
    path: &str,
    authority: &str,
    headers: &[(HeaderName, HeaderValue)],
    body: &[u8],
) -> Vec<u8> {
    let mut w = Vec::with_capacity(64 + path.len() + body.len() + headers.len() * 32);
    let path = if path.is_empty() { "/" } else { path };
    for part in [method.as_str().as_bytes(), b" ", path.as_bytes(), b" HTTP/1.1\r\n"] {
        w.extend_from_slice(part);
    }
    let has = |name: &HeaderName| headers.iter().any(|(k, _)| k == name);
    if !has(&HOST) {
        w.extend_from_slice(b"host: ");
        w.extend_from_slice(authority.as_bytes());
        w.extend_from_slice(b"\r\n");
    }
    for (k, v) in headers {
        w.extend_from_slice(k.as_str().as_bytes());
        w.extend_from_slice(b": ");
        w.extend_from_slice(v.as_bytes());
        w.extend_from_slice(b"\r\n");
    }
    let wants_length = !body.is_empty() || matches!(*method, Method::POST | Method::PUT | Method::PATCH);
    if wants_length && !has(&CONTENT_LENGTH) {
        w.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
    }
    w.extend_from_slice(b"\r\n");
    w.extend_from_slice(body);
    w
}

/// Where a response's body goes: counted into `bytes` (failing past `max`), and its first
/// `keep` bytes, with the values of the headers named in `headers`, kept in `kept` (a journey
/// extracts from them; the request mix keeps nothing).
pub struct Sink<'a> {
    pub max: u64,
    pub bytes: &'a mut u64,
    /// Header names, lower case, whose values are kept.
    pub headers: &'a [&'a str],
    pub keep: usize,
    pub kept: Kept,
}

impl<'a> Sink<'a> {
    /// Counts and discards: nothing kept.
    pub fn discard(max: u64, bytes: &'a mut u64) -> Sink<'a> {
        Sink { max, bytes, headers: &[], keep: 0, kept: Kept::default() }
    }

    /// Counts `n` more body bytes (failing past `max`) and keeps what room is left of `data`.
    pub fn body(&mut self, data: &[u8]) -> Result<(), ErrorClass> {
        *self.bytes += data.len() as u64;
        if *self.bytes > self.max {
            return Err(ErrorClass::BodyTooLarge);
        }
        let room = self.keep.saturating_sub(self.kept.body.len()).min(data.len());
        self.kept.body.extend_from_slice(&data[..room]);
        Ok(())
    }

    /// Keeps a header's value when its name is asked for.
    pub fn header(&mut self, name: &str, value: &[u8]) {
        if let Some(k) = self.headers.iter().find(|k| k.eq_ignore_ascii_case(name)) {
            self.kept.headers.push((k.to_string(), String::from_utf8_lossy(value).into_owned()));
        }
    }
}

/// What a [`Sink`] kept of the last response.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Kept {
    /// (name as asked for, value), in the order they came.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// A response, read to its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    /// Where a 3xx points.
    pub location: Option<String>,
    /// The connection cannot carry another request (`Connection: close`, HTTP/1.0 without
    /// keep-alive, or a body that ends when the connection does).
    pub close: bool,
}

/// Why an exchange got no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failed {
    /// A kept-alive connection that the server had closed while it sat idle: the request never
    /// reached it, and is sent again on a new connection.
    Stale,
    /// Anything else, as its class.
    Class(ErrorClass),
}

impl From<ErrorClass> for Failed {
    fn from(c: ErrorClass) -> Failed {
        Failed::Class(c)
    }
}

/// How a response's body is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    None,
    Length(u64),
    Chunked,
    /// Until the server closes the connection.
    Eof,
}

/// One keep-alive HTTP/1.1 connection.
pub struct H1 {
    io: Box<dyn Io>,
    buf: Vec<u8>,
    /// The unread bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    /// Responses read to the end on this connection.
    answered: u64,
    closed: bool,
}

impl H1 {
    pub fn new(io: Box<dyn Io>) -> H1 {
        H1 { io, buf: vec![0; READ_BUF], start: 0, end: 0, answered: 0, closed: false }
    }

    /// The connection can no longer carry a request.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Sends `wire` (an [`encode`]d request) and reads its response to the end into `sink`;
    /// `head_only` for a HEAD request, whose response has no body.
    pub async fn exchange(&mut self, wire: &[u8], head_only: bool, sink: &mut Sink<'_>) -> Result<Answer, Failed> {
        let result = self.attempt(wire, head_only, sink).await;
        match &result {
            Ok(answer) => {
                self.answered += 1;
                self.closed |= answer.close;
            }
            Err(_) => self.closed = true,
        }
        result
    }

    async fn attempt(&mut self, wire: &[u8], head_only: bool, sink: &mut Sink<'_>) -> Result<Answer, Failed> {
        let reused = self.answered > 0;
        // A write to a connection the server has closed fails at once, or succeeds into the
        // kernel's buffer and the read below sees the end instead.
        let stale = if reused { Failed::Stale } else { Failed::Class(ErrorClass::Io) };
        self.io.write_all(wire).await.map_err(|_| stale)?;
        self.io.flush().await.map_err(|_| stale)?;
        let (status, location, framing, close) = loop {
            match self.head(head_only, sink)? {
                Some(Head { status, .. }) if (100..200).contains(&status) && status != 101 => continue,
                Some(Head { status, location, framing, close }) => break (status, location, framing, close),
                None => {
                    if self.end - self.start >= MAX_HEAD {
                        return Err(ErrorClass::Protocol.into());
                    }
                    // Nothing at all came back on a kept-alive connection, only its end (or the
                    // reset that a request sent after the server's close gets): it was closed
                    // while idle, before the request reached the server.
                    let nothing = self.start == self.end && reused && *sink.bytes == 0;
                    match self.fill().await {
                        Ok(0) | Err(_) if nothing => return Err(Failed::Stale),
                        Ok(0) => return Err(ErrorClass::Io.into()),
                        Ok(_) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        };
        match framing {
            Framing::None => {}
            Framing::Length(n) => self.skip(Some(n), sink).await?,
            Framing::Eof => self.skip(None, sink).await?,
            Framing::Chunked => self.chunked(sink).await?,
        }
        Ok(Answer { status, location, close: close || framing == Framing::Eof })
    }

    /// Parses a response head from what has been read, consuming it; `None` when more is needed.
    fn head(&mut self, head_only: bool, sink: &mut Sink<'_>) -> Result<Option<Head>, ErrorClass> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut resp = httparse::Response::new(&mut headers);
        let n = match resp.parse(&self.buf[self.start..self.end]) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(_) => return Err(ErrorClass::Protocol),
        };
        let status = resp.code.unwrap_or(0);
        let interim = (100..200).contains(&status) && status != 101;
        let mut keep_alive = resp.version == Some(1);
        let (mut length, mut chunked, mut encoded, mut location) = (None, false, false, None);
        for h in resp.headers.iter() {
            let name = h.name;
            if !interim && !sink.headers.is_empty() {
                sink.header(name, h.value);
            }
            if name.eq_ignore_ascii_case("content-length") {
                let n = parse_length(h.value).ok_or(ErrorClass::Protocol)?;
                if length.is_some_and(|l| l != n) {
                    return Err(ErrorClass::Protocol);
                }
                length = Some(n);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                // The last coding decides: chunked, or a body that ends with the connection.
                encoded = true;
                let last = h.value.rsplit(|&b| b == b',').next().unwrap_or_default();
                chunked = last.trim_ascii().eq_ignore_ascii_case(b"chunked");
            } else if name.eq_ignore_ascii_case("connection") {
                for token in h.value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
                    if token.eq_ignore_ascii_case(b"close") {
                        keep_alive = false;
                    } else if token.eq_ignore_ascii_case(b"keep-alive") && resp.version == Some(0) {
                        keep_alive = true;
                    }
                }
            } else if name.eq_ignore_ascii_case("location") && (300..400).contains(&status) {
                location = std::str::from_utf8(h.value).ok().map(str::to_string);
            }
        }
        let framing = if head_only || (100..200).contains(&status) || status == 204 || status == 304 {
            Framing::None
        } else if encoded {
            if chunked {
                Framing::Chunked
            } else {
                Framing::Eof
            }
        } else {
            match length {
                Some(0) => Framing::None,
                Some(n) => Framing::Length(n),
                None => Framing::Eof,
            }
        };
        self.start += n;
        Ok(Some(Head { status, location, framing, close: !keep_alive }))
    }

    /// Reads more into the buffer, keeping what is unread; the bytes read (0 at the end).
    async fn fill(&mut self) -> Result<usize, Failed> {
        if self.start == self.end {
            (self.start, self.end) = (0, 0);
        } else if self.end == self.buf.len() {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                (self.start, self.end) = (0, self.end - self.start);
            } else {
                // A head (or a line) longer than the buffer: more room, up to the bounds the
                // callers check.
                self.buf.resize(self.buf.len() * 2, 0);
            }
        }
        let n = self.io.read(&mut self.buf[self.end..]).await.map_err(|_| ErrorClass::Io)?;
        self.end += n;
        Ok(n)
    }

    /// Discards `length` body bytes (or all until the end when `None`), counting them.
    async fn skip(&mut self, length: Option<u64>, sink: &mut Sink<'_>) -> Result<(), Failed> {
        let mut left = length.unwrap_or(u64::MAX);
        loop {
            let take = ((self.end - self.start) as u64).min(left);
            sink.body(&self.buf[self.start..self.start + take as usize])?;
            self.start += take as usize;
            left -= take;
            if left == 0 {
                return Ok(());
            }
            if self.fill().await? == 0 {
                return match length {
                    None => Ok(()),
                    // The connection ended before the body did.
                    Some(_) => Err(ErrorClass::Io.into()),
                };
            }
        }
    }

    /// Reads one line (up to `\n`, its `\r` dropped), returning where it lies in the buffer.
    async fn line(&mut self) -> Result<std::ops::Range<usize>, Failed> {
        loop {
            if let Some(i) = self.buf[self.start..self.end].iter().position(|&b| b == b'\n') {
                let (from, to) = (self.start, self.start + i);
                self.start = to + 1;
                let to = if to > from && self.buf[to - 1] == b'\r' { to - 1 } else { to };
                return Ok(from..to);
            }
            if self.end - self.start > MAX_LINE {
                return Err(ErrorClass::Protocol.into());
            }
            if self.fill().await? == 0 {
                return Err(ErrorClass::Io.into());
            }
        }
    }

    /// Reads a chunked body to its last chunk and trailers, counting the data.
    async fn chunked(&mut self, sink: &mut Sink<'_>) -> Result<(), Failed> {
        loop {
            let line = self.line().await?;
            let size = chunk_size(&self.buf[line]).ok_or(ErrorClass::Protocol)?;
            if size == 0 {
                let mut trailers = 0;
                loop {
                    let line = self.line().await?;
                    if line.is_empty() {
                        return Ok(());
                    }
                    trailers += line.len();
                    if trailers > MAX_HEAD {
                        return Err(ErrorClass::Protocol.into());
                    }
                }
            }
            self.skip(Some(size), sink).await?;
            if !self.line().await?.is_empty() {
                return Err(ErrorClass::Protocol.into());
            }
        }
    }
}

/// A parsed response head.
struct Head {
    status: u16,
    location: Option<String>,
    framing: Framing,
    close: bool,
}

/// A Content-Length value: digits only.
fn parse_length(v: &[u8]) -> Option<u64> {
    let v = v.trim_ascii();
    if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(v).ok()?.parse().ok()
}

/// A chunk-size line's size (hex, before any `;` extension).
fn chunk_size(line: &[u8]) -> Option<u64> {
    let hex = line.split(|&b| b == b';').next()?.trim_ascii();
    if hex.is_empty() || hex.len() > 15 {
        return None;
    }
    u64::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()
}

#[cfg(test)]
mod tests;
