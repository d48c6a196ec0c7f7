//! The HTTP/1.1 client against scripted servers: framing, keep-alive, bounds, and bytes that
//! are not HTTP.

use super::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Runs one exchange against a peer that reads the request and writes `reply` (then
/// closes when `close`), returning the answer, the body bytes counted and what was sent.
async fn against(replies: &[&[u8]], close: bool, max: u64) -> (Vec<Result<Answer, Failed>>, Vec<u64>) {
    let (client, mut server) = tokio::io::duplex(1 << 16);
    let replies: Vec<Vec<u8>> = replies.iter().map(|r| r.to_vec()).collect();
    let n = replies.len();
    let peer = tokio::spawn(async move {
        let mut got = vec![0u8; 4096];
        for reply in replies {
            let _ = server.read(&mut got).await;
            server.write_all(&reply).await.unwrap();
        }
        if close {
            drop(server);
        } else {
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        }
    });
    let mut h1 = H1::new(Box::new(client));
    let wire = encode(&Method::GET, "/", "127.0.0.1:1", &[], b"");
    let (mut out, mut counted) = (Vec::new(), Vec::new());
    for _ in 0..n {
        let mut bytes = 0;
        out.push(h1.exchange(&wire, false, &mut Sink::discard(max, &mut bytes)).await);
        counted.push(bytes);
    }
    peer.abort();
    (out, counted)
}

fn ok(status: u16, close: bool) -> Result<Answer, Failed> {
    Ok(Answer { status, location: None, close })
}

#[test]
fn requests_are_encoded_once_with_host_and_length() {
    let h = [(HeaderName::from_static("x-a"), HeaderValue::from_static("1"))];
    let w = encode(&Method::POST, "/p?q=1", "example:8080", &h, b"hi");
    assert_eq!(w, b"POST /p?q=1 HTTP/1.1\r\nhost: example:8080\r\nx-a: 1\r\ncontent-length: 2\r\n\r\nhi");
    let own = [(HOST, HeaderValue::from_static("other"))];
    assert_eq!(encode(&Method::GET, "", "a:1", &own, b""), b"GET / HTTP/1.1\r\nhost: other\r\n\r\n");
}

#[tokio::test]
async fn lengths_chunks_and_keep_alive() {
    let (out, bytes) = against(
        &[
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nT: 1\r\n\r\n",
            b"HTTP/1.1 204 No Content\r\n\r\n",
            b"HTTP/1.1 302 Found\r\nLocation: /there\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        ],
        false,
        1 << 20,
    )
    .await;
    assert_eq!(out[0], ok(200, false));
    assert_eq!(out[1], ok(201, false));
    assert_eq!(out[2], ok(204, false));
    assert_eq!(out[3], Ok(Answer { status: 302, location: Some("/there".into()), close: true }));
    assert_eq!(bytes, [5, 19, 0, 0]);
}

#[tokio::test]
async fn http10_and_bodies_to_the_end() {
    let (out, bytes) = against(&[b"HTTP/1.0 200 OK\r\n\r\nuntil the end"], true, 1 << 20).await;
    assert_eq!(out[0], ok(200, true));
    assert_eq!(bytes[0], 13);
    let (out, _) =
        against(&[b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx"], false, 1 << 20).await;
    assert_eq!(out[0], ok(200, false));
}

#[tokio::test]
async fn what_is_not_http_or_too_much_fails_by_class() {
    let fails = |c| Err(Failed::Class(c));
    assert_eq!(against(&[b"garbage garbage\r\n\r\n"], true, 1 << 20).await.0[0], fails(ErrorClass::Protocol));
    let short = &b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"[..];
    assert_eq!(against(&[short], true, 1 << 20).await.0[0], fails(ErrorClass::Io));
    let big = &b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"[..];
    let mut body = big.to_vec();
    body.extend([b'x'; 100]);
    assert_eq!(against(&[&body], false, 50).await.0[0], fails(ErrorClass::BodyTooLarge));
    let bad_chunk = &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"[..];
    assert_eq!(against(&[bad_chunk], false, 1 << 20).await.0[0], fails(ErrorClass::Protocol));
    let two = &b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx"[..];
    assert_eq!(against(&[two], false, 1 << 20).await.0[0], fails(ErrorClass::Protocol));
    // A head that never ends, past the bound: refused, not buffered.
    let mut huge = b"HTTP/1.1 200 OK\r\nX-Big: ".to_vec();
    huge.extend(vec![b'a'; MAX_HEAD + 10]);
    assert_eq!(against(&[&huge], false, 1 << 20).await.0[0], fails(ErrorClass::Protocol));
    // Nothing back on a fresh connection is an I/O error, not a stale one.
    assert_eq!(against(&[b""], true, 1 << 20).await.0[0], fails(ErrorClass::Io));
}

#[tokio::test]
async fn a_sink_keeps_the_headers_asked_for_and_the_start_of_the_body() {
    let (client, mut server) = tokio::io::duplex(1 << 16);
    tokio::spawn(async move {
        let mut got = vec![0u8; 4096];
        let _ = server.read(&mut got).await;
        let reply = b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nX-Token: t\r\nSet-Cookie: b=2\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n4\r\nefgh\r\n0\r\n\r\n";
        server.write_all(reply).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
    });
    let mut h1 = H1::new(Box::new(client));
    let mut bytes = 0;
    let mut sink = Sink { headers: &["set-cookie", "x-token"], keep: 6, ..Sink::discard(1 << 20, &mut bytes) };
    let wire = encode(&Method::GET, "/", "a:1", &[], b"");
    assert_eq!(h1.exchange(&wire, false, &mut sink).await, ok(200, false));
    let kept = std::mem::take(&mut sink.kept);
    let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
    assert_eq!(kept.headers, [pair("set-cookie", "a=1"), pair("x-token", "t"), pair("set-cookie", "b=2")]);
    assert_eq!(kept.body, b"abcdef");
    assert_eq!(bytes, 8);
}

#[tokio::test]
async fn a_connection_closed_while_idle_is_stale() {
    let (out, _) = against(&[b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", b""], true, 1 << 20).await;
    assert_eq!(out[0], ok(200, false));
    assert_eq!(out[1], Err(Failed::Stale));
}
