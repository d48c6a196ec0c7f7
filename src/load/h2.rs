//! HTTP/2 on hyper: the connections a run's workers share, a handshake, and one request on a
//! shared connection, its body read through the same bounded sink as HTTP/1.1's.

use std::sync::atomic::AtomicUsize;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http2;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Method, Request};
use hyper_util::rt::{TokioExecutor, TokioIo};

use super::h1::{Io, Sink};
use super::recorder::ErrorClass;

/// The HTTP/2 connections of a run: one slot per `streams_per_connection` workers, each holding
/// the connection its workers share (opened by the first that needs it, again when it closes).
#[derive(Debug, Default)]
pub struct Pool {
    pub(super) slots: Vec<tokio::sync::Mutex<Option<http2::SendRequest<Full<Bytes>>>>>,
    pub(super) next: AtomicUsize,
}

impl Pool {
    /// Slots for `max_in_flight` workers, `streams` to a connection.
    pub fn new(max_in_flight: usize, streams: usize) -> Pool {
        let n = max_in_flight.div_ceil(streams.max(1)).max(1);
        Pool { slots: (0..n).map(|_| tokio::sync::Mutex::new(None)).collect(), next: AtomicUsize::new(0) }
    }
}

/// An HTTP/2 connection over `io`: the handle workers send on. Its future runs as a task of its
/// own and ends when the server closes the connection or the run drops its last handle.
pub async fn handshake(io: Box<dyn Io>) -> Result<http2::SendRequest<Full<Bytes>>, String> {
    // Heads past 64 KiB are refused, as over HTTP/1.1.
    let (sender, conn) = http2::Builder::new(TokioExecutor::new())
        .max_header_list_size(64 * 1024)
        .handshake(TokioIo::new(io))
        .await
        .map_err(|e| format!("HTTP/2 handshake failed: {e}"))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// One request on a shared connection to `origin`: its status and redirect, the body read
/// to the end into `sink`. HTTP/2 names the origin in :scheme and :authority instead of a Host
/// header.
pub async fn exchange(
    sender: &mut http2::SendRequest<Full<Bytes>>,
    origin: &str,
    (method, path, headers, body): (&Method, &str, &[(HeaderName, HeaderValue)], &Bytes),
    sink: &mut Sink<'_>,
) -> Result<(u16, Option<String>), ErrorClass> {
    let mut req = Request::builder().method(method.clone()).uri(format!("{origin}{path}"));
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let req = req.body(Full::new(body.clone())).map_err(|_| ErrorClass::Io)?;
    let resp = sender.send_request(req).await.map_err(|e| class(&e))?;
    read(resp, sink).await
}

/// A response's status and redirect, its body read to the end into `sink`.
async fn read(
    resp: hyper::Response<hyper::body::Incoming>,
    sink: &mut Sink<'_>,
) -> Result<(u16, Option<String>), ErrorClass> {
    let status = resp.status().as_u16();
    let location = resp.headers().get(hyper::header::LOCATION).and_then(|l| l.to_str().ok()).map(str::to_string);
    if !sink.headers.is_empty() {
        for (k, v) in resp.headers() {
            sink.header(k.as_str(), v.as_bytes());
        }
    }
    drain(resp.into_body(), sink).await?;
    Ok((status, location))
}

/// The class of a hyper error: bytes that were not HTTP, or a connection that failed.
fn class(e: &hyper::Error) -> ErrorClass {
    if e.is_parse() || e.is_parse_too_large() || e.is_parse_status() {
        ErrorClass::Protocol
    } else {
        ErrorClass::Io
    }
}

/// Reads a body frame by frame into `sink`, up to its `max` bytes: past that it stops reading
/// and fails, so an endless body costs a buffer, never memory without bound.
async fn drain(mut body: hyper::body::Incoming, sink: &mut Sink<'_>) -> Result<(), ErrorClass> {
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| class(&e))?;
        if let Some(data) = frame.data_ref() {
            sink.body(data)?;
        }
    }
    Ok(())
}
