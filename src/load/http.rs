//! The HTTP side of the engine: the target, prepared requests, and one keep-alive HTTP/1.1
//! connection per worker, built on hyper, over TCP or TLS (rustls, certificates checked against
//! the webpki roots unless `--insecure`).

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{HeaderName, HeaderValue, HOST};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

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
    /// `https://`: connections speak TLS.
    pub tls: bool,
}

impl Target {
    /// Parses `http://host[:port][/base]`.
    pub fn parse(url: &str) -> Result<Target, InputError> {
        let bad = |why: &str| InputError::Usage(format!("target '{url}': {why}"));
        let (rest, tls) = match url.split_once("://") {
            Some(("http", rest)) => (rest, false),
            Some(("https", rest)) => (rest, true),
            _ => return Err(bad("expected a URL such as http://127.0.0.1:8080 or https://staging.example:8443")),
        };
        let (authority, base) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => {
                (h.to_string(), p.parse::<u16>().map_err(|_| bad("the port must be a number from 1 to 65535"))?)
            }
            _ => (authority.to_string(), if tls { 443 } else { 80 }),
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        Ok(Target { host, port, authority: authority.to_string(), base: base.trim_end_matches('/').to_string(), tls })
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
    driver: Pin<Box<Driver>>,
}

/// The connection future that reads and writes one connection.
type Driver = http1::Connection<TokioIo<Box<dyn Io>>, Full<Bytes>>;

/// A byte stream a connection runs over: TCP, or TLS over TCP.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// The TLS client settings: the webpki roots, or, when `insecure`, any certificate at all.
pub fn tls_config(insecure: bool) -> Arc<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let algorithms = provider.signature_verification_algorithms;
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions");
    let mut config = if insecure {
        builder.dangerous().with_custom_certificate_verifier(Arc::new(AnyCertificate(algorithms))).with_no_client_auth()
    } else {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// `--insecure`: accepts every certificate; handshake signatures are still checked with the
/// provider's algorithms.
#[derive(Debug)]
struct AnyCertificate(rustls::crypto::WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.0)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.0)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

/// Opens a keep-alive HTTP/1.1 connection to the target, with a TLS handshake for https; the
/// error says what failed.
pub async fn open(engine: &Engine) -> Result<Conn, String> {
    let t = &engine.target;
    let tcp = TcpStream::connect((t.host.as_str(), t.port)).await.map_err(|e| e.to_string())?;
    let _ = tcp.set_nodelay(true);
    let io: Box<dyn Io> = match &engine.tls {
        Some(config) if t.tls => {
            let name = ServerName::try_from(t.host.clone())
                .map_err(|e| format!("'{}' is not a TLS server name: {e}", t.host))?;
            Box::new(
                TlsConnector::from(config.clone())
                    .connect(name, tcp)
                    .await
                    .map_err(|e| format!("TLS handshake failed: {e}"))?,
            )
        }
        _ => Box::new(tcp),
    };
    let (sender, driver) = http1::handshake(TokioIo::new(io)).await.map_err(|e| e.to_string())?;
    Ok(Conn { sender, driver: Box::pin(driver) })
}

/// Opens a connection; any failure counts as a connect error.
pub async fn connect(engine: &Engine) -> Result<Conn, ErrorClass> {
    open(engine).await.map_err(|_| ErrorClass::Connect)
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
        let t = Target::parse("https://staging.example").unwrap();
        assert!(t.tls && t.port == 443);
        assert!(Target::parse("ftp://x").is_err());
    }
}
