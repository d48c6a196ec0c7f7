//! A misbehaving HTTP server on 127.0.0.1 for tests: each mode is one way a target goes wrong.
//! Threads, not a runtime, so that a test of the binary needs nothing else; it stops when
//! dropped, and every connection it serves ends by itself (within 30 s at most).

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// How the server misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// HTTP/1.1 200 with `Connection: close`, then closes: one response per connection.
    CloseEach,
    /// An HTTP/1.0 server: 200 without keep-alive, then closes.
    Http10,
    /// Accepts, then closes without a byte.
    AcceptThenClose,
    /// Sends half a response head, then resets the connection.
    ResetMidResponse,
    /// Sends its response head a byte every 200 ms.
    Slowloris,
    /// Reads the request and never answers.
    NeverRespond,
    /// Answers with bytes that are not HTTP.
    Garbage,
    /// `HTTP/1.1 abc OK`.
    InvalidStatusLine,
    /// A 200 whose head holds a 1 MB header.
    HugeHeader,
    /// A 200 with a chunked body that never ends.
    EndlessBody,
    /// `Content-Length: 100`, then 10 bytes and a close.
    ShortBody,
    /// 500 to everything.
    Always500,
    /// 503 with `Retry-After: 1`.
    Unavailable,
    /// 429 to everything.
    TooMany,
    /// 301 to the same path on another port (of a server that would answer 200).
    RedirectAway(u16),
    /// 301 to `/ok` on itself, which answers 200.
    RedirectHome,
    /// 401 whose body repeats the request's head, as a careless server's error page does.
    EchoHead,
    /// `/login`: 302 to `/home` setting a session cookie; `/home`: 200 with that cookie, else 401.
    CookieRedirect,
    /// 200 with keep-alive, closing a connection once it has sat idle for 50 ms, as servers'
    /// keep-alive timeouts do (without saying so in a header).
    IdleClose,
}

/// A running fault server; dropping it stops it.
pub struct Fault {
    pub url: String,
    pub port: u16,
    pub connections: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    addr: SocketAddr,
}

impl Fault {
    pub fn start(mode: Mode) -> Fault {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(AtomicU64::new(0));
        let (s, c) = (stop.clone(), connections.clone());
        thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                c.fetch_add(1, Ordering::Relaxed);
                let s = s.clone();
                thread::spawn(move || serve(conn, mode, &s));
            }
        });
        Fault { url: format!("http://{addr}"), port: addr.port(), connections, stop, addr }
    }
}

impl Drop for Fault {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wakes the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// A listener that never accepts: connections queue in the kernel's backlog, then are refused
/// or left hanging.
pub struct Deaf {
    pub url: String,
    _listener: TcpListener,
}

impl Deaf {
    pub fn start() -> Deaf {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        Deaf { url: format!("http://{}", listener.local_addr().unwrap()), _listener: listener }
    }
}

/// A loopback URL where nothing listens.
pub fn refused_url() -> String {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    format!("http://127.0.0.1:{port}")
}

/// Reads one request head (up to a blank line): its text, or `None` when the peer closed.
fn read_head(conn: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match conn.read(&mut byte) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&byte[..n]),
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
    }
    Some(String::from_utf8_lossy(&buf).into_owned())
}

fn status(code: &str, extra: &str) -> Vec<u8> {
    format!("HTTP/1.1 {code}\r\nContent-Length: 2\r\n{extra}\r\nok").into_bytes()
}

fn serve(mut conn: TcpStream, mode: Mode, stop: &AtomicBool) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
    let _ = conn.set_write_timeout(Some(Duration::from_secs(30)));
    let started = Instant::now();
    // Keep-alive modes answer every request on the connection.
    let mut answered = false;
    while let Some(head) = if mode == Mode::AcceptThenClose { None } else { read_head(&mut conn) } {
        if mode == Mode::IdleClose && !answered {
            answered = true;
            let _ = conn.set_read_timeout(Some(Duration::from_millis(50)));
        }
        let line = head.lines().next().unwrap_or("").to_string();
        let reply: Vec<u8> = match mode {
            Mode::CloseEach => b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".to_vec(),
            Mode::Http10 => b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec(),
            Mode::ResetMidResponse => {
                let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Le");
                // SO_LINGER 0: close sends a reset.
                let _ = socket_linger_zero(&conn);
                return;
            }
            Mode::Slowloris => {
                for b in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" {
                    if stop.load(Ordering::Relaxed) || conn.write_all(&[*b]).is_err() {
                        return;
                    }
                    thread::sleep(Duration::from_millis(200));
                }
                continue;
            }
            Mode::NeverRespond => {
                while !stop.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(30) {
                    thread::sleep(Duration::from_millis(50));
                }
                return;
            }
            Mode::Garbage => vec![0xde, 0xad, 0xbe, 0xef, 0x00, 0xff, 0x13, 0x37, b'\r', b'\n', b'\r', b'\n'],
            Mode::InvalidStatusLine => b"HTTP/1.1 abc OK\r\nContent-Length: 2\r\n\r\nok".to_vec(),
            Mode::HugeHeader => {
                let mut r = b"HTTP/1.1 200 OK\r\nX-Big: ".to_vec();
                r.extend(std::iter::repeat_n(b'a', 1 << 20));
                r.extend_from_slice(b"\r\nContent-Length: 2\r\n\r\nok");
                r
            }
            Mode::EndlessBody => {
                if conn.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").is_err() {
                    return;
                }
                let chunk = [b'x'; 65_536];
                let head = format!("{:x}\r\n", chunk.len());
                while !stop.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(30) {
                    let sent = conn
                        .write_all(head.as_bytes())
                        .and_then(|_| conn.write_all(&chunk))
                        .and_then(|_| conn.write_all(b"\r\n"));
                    if sent.is_err() {
                        return;
                    }
                }
                return;
            }
            Mode::ShortBody => {
                let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
                let _ = conn.shutdown(Shutdown::Both);
                return;
            }
            Mode::Always500 => status("500 Internal Server Error", ""),
            Mode::Unavailable => status("503 Service Unavailable", "Retry-After: 1\r\n"),
            Mode::TooMany => status("429 Too Many Requests", "Retry-After: 1\r\n"),
            Mode::RedirectAway(port) => {
                status("301 Moved Permanently", &format!("Location: http://127.0.0.1:{port}/\r\n"))
            }
            Mode::RedirectHome => {
                if line.contains(" /ok ") {
                    status("200 OK", "")
                } else {
                    status("301 Moved Permanently", "Location: /ok\r\n")
                }
            }
            Mode::EchoHead => {
                let body = head.replace("\r\n", " | ");
                format!("HTTP/1.1 401 Unauthorized\r\nContent-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
            }
            Mode::IdleClose => status("200 OK", ""),
            Mode::CookieRedirect => {
                let cookie =
                    head.lines().any(|l| l.to_ascii_lowercase().starts_with("cookie:") && l.contains("session=s1"));
                if line.starts_with("GET /login ") {
                    status("302 Found", "Location: /home\r\nSet-Cookie: session=s1; Path=/\r\n")
                } else if cookie {
                    status("200 OK", "")
                } else {
                    status("401 Unauthorized", "")
                }
            }
            Mode::AcceptThenClose => unreachable!("closes before reading"),
        };
        if conn.write_all(&reply).is_err() {
            return;
        }
        if matches!(mode, Mode::CloseEach | Mode::Http10 | Mode::Garbage | Mode::InvalidStatusLine | Mode::HugeHeader) {
            break;
        }
    }
    let _ = conn.shutdown(Shutdown::Both);
}

/// Sets SO_LINGER to 0, so that dropping the socket resets the connection.
fn socket_linger_zero(conn: &TcpStream) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let linger = libc::linger { l_onoff: 1, l_linger: 0 };
    // SAFETY: a valid socket descriptor and a correctly sized option value.
    let r = unsafe {
        libc::setsockopt(
            conn.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &linger as *const libc::linger as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}
