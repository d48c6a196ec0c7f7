//! A misbehaving HTTP server on 127.0.0.1 for tests: each mode is one way a target goes wrong.
//! Threads, not a runtime, so that a test of the binary needs nothing else; it stops when
//! dropped, and every connection it serves ends by itself.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// How the server misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// HTTP/1.1 200 with `Connection: close`, then closes: one response per connection.
    CloseEach,
    /// An HTTP/1.0 server: 200 without keep-alive, then closes.
    Http10,
}

/// A running fault server; dropping it stops it.
pub struct Fault {
    pub url: String,
    pub connections: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    addr: std::net::SocketAddr,
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
                thread::spawn(move || serve(conn, mode));
            }
        });
        Fault { url: format!("http://{addr}"), connections, stop, addr }
    }
}

impl Drop for Fault {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wakes the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// Reads one request head (up to a blank line); `false` when the peer closed first.
fn read_head(conn: &mut TcpStream) -> bool {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match conn.read(&mut byte) {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&byte[..n]),
        }
        if buf.len() > 64 * 1024 {
            return false;
        }
    }
    true
}

fn serve(mut conn: TcpStream, mode: Mode) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    if !read_head(&mut conn) {
        return;
    }
    let response: &[u8] = match mode {
        Mode::CloseEach => b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
        Mode::Http10 => b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
    };
    let _ = conn.write_all(response);
    let _ = conn.shutdown(Shutdown::Both);
}
