//! The HTTP side of the engine: the target, prepared requests, and one keep-alive HTTP/1.1
//! connection per worker, built on hyper.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{HeaderName, HeaderValue, HOST};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::engine::Engine;
use super::recorder::ErrorClass;
use crate::error::InputError;

/// Where the requests go.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub host: String,
    pub port: u16,
    /// `host:port`, for the Host header.
    pub authority: String,
    /// A path prefix from the URL, without a trailing slash.
    pub base: String,
}

impl Target {
    /// Parses `http://host[:port][/base]`.
    pub fn parse(url: &str) -> Result<Target, InputError> {
        let bad = |why: &str| InputError::Usage(format!("target '{url}': {why}"));
        let rest = match url.split_once("://") {
            Some(("http", rest)) => rest,
            Some(("https", _)) => return Err(bad("https is not supported by this version's engine yet; use http://")),
            _ => return Err(bad("expected a URL such as http://127.0.0.1:8080")),
        };
        let (authority, base) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => {
                (h.to_string(), p.parse::<u16>().map_err(|_| bad("the port must be a number from 1 to 65535"))?)
            }
            _ => (authority.to_string(), 80),
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        Ok(Target { host, port, authority: authority.to_string(), base: base.trim_end_matches('/').to_string() })
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

/// A worker's connection: hyper's request handle and the connection future, which the worker
/// polls itself beside each request instead of spawning it, so that a request does not cross
/// to another task and back through a channel.
pub struct Conn {
    sender: SendRequest<Full<Bytes>>,
    driver: Pin<Box<http1::Connection<TokioIo<TcpStream>, Full<Bytes>>>>,
}

/// Opens a keep-alive HTTP/1.1 connection to the target.
pub async fn connect(engine: &Engine) -> Result<Conn, ErrorClass> {
    let stream =
        TcpStream::connect((engine.target.host.as_str(), engine.target.port)).await.map_err(|_| ErrorClass::Connect)?;
    let _ = stream.set_nodelay(true);
    let (sender, driver) = http1::handshake(TokioIo::new(stream)).await.map_err(|_| ErrorClass::Connect)?;
    Ok(Conn { sender, driver: Box::pin(driver) })
}

/// Sends one request on the worker's connection, opening it first when needed.
pub async fn send(
    engine: &Engine,
    conn: &mut Option<Conn>,
    index: usize,
    reconnects: &AtomicU64,
) -> Result<(), ErrorClass> {
    let r = &engine.requests[index];
    let attempt = async {
        if conn.as_ref().is_none_or(|c| c.sender.is_closed()) {
            if conn.take().is_some() {
                reconnects.fetch_add(1, Ordering::Relaxed);
            }
            *conn = Some(connect(engine).await?);
        }
        let Conn { sender, driver } = conn.as_mut().expect("connected above");
        let exchange = async {
            sender.ready().await.map_err(|_| ErrorClass::Io)?;
            let mut req = Request::builder()
                .method(r.method.clone())
                .uri(r.path.as_str())
                .header(HOST, engine.target.authority.as_str());
            for (k, v) in &r.headers {
                req = req.header(k, v);
            }
            let req = req.body(Full::new(r.body.clone())).map_err(|_| ErrorClass::Io)?;
            let resp = sender.send_request(req).await.map_err(|_| ErrorClass::Io)?;
            let status = resp.status().as_u16();
            resp.into_body().collect().await.map_err(|_| ErrorClass::Io)?;
            Ok::<u16, ErrorClass>(status)
        };
        let status = tokio::select! {
            biased;
            s = exchange => s?,
            // The connection future only finishes when the connection does.
            _ = driver.as_mut() => return Err(ErrorClass::Io),
        };
        let ok = match r.expect {
            Some(e) => status == e,
            None => (200..300).contains(&status),
        };
        if ok {
            Ok(())
        } else {
            Err(ErrorClass::of_status(status))
        }
    };
    match tokio::time::timeout(engine.timeout, attempt).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => {
            if matches!(e, ErrorClass::Io) {
                *conn = None;
            }
            Err(e)
        }
        Err(_) => {
            // The request is still in flight on that connection: it cannot be reused.
            *conn = None;
            Err(ErrorClass::Timeout)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let t = Target::parse("http://127.0.0.1:8080/api/").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.authority.as_str(), t.base.as_str()),
            ("127.0.0.1", 8080, "127.0.0.1:8080", "/api")
        );
        assert_eq!(Target::parse("http://localhost").unwrap().port, 80);
        assert!(Target::parse("127.0.0.1:80").is_err());
        assert!(Target::parse("https://x").unwrap_err().to_string().contains("https"));
    }
}
