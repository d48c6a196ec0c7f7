//! TLS as staging services run it: the public webpki roots, plus a company's own CA (`cacert`)
//! or the operating system's store, a client certificate for mutual TLS, another server name,
//! and `--insecure` for a self-signed test server only. One rustls configuration serves both
//! engines (the request mix, and journeys, whose users connect the same way).

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::error::InputError;
use crate::plan::TlsSpec;

fn bad(path: &Path, key: &str, message: impl std::fmt::Display) -> InputError {
    InputError::BadFile { file: path.display().to_string(), message: format!("{key}: {message}") }
}

/// Every certificate of a PEM file, in order; a file without one is an error naming it.
fn certificates(path: &Path, key: &str) -> Result<Vec<CertificateDer<'static>>, InputError> {
    let bytes = std::fs::read(path).map_err(|e| bad(path, key, format!("cannot read it: {e}")))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(path, key, format!("not a PEM certificate file: {e}")))?;
    if certs.is_empty() {
        return Err(bad(path, key, "no certificate in it: expected PEM blocks '-----BEGIN CERTIFICATE-----'"));
    }
    Ok(certs)
}

/// The TLS client settings of `spec`: the roots to trust and the certificate to present, and
/// the protocols offered by ALPN (`h2`, `http/1.1`). With `insecure`, any server certificate is
/// accepted (the client certificate is still presented).
pub fn client_config(spec: &TlsSpec, insecure: bool, alpn: &[&[u8]]) -> Result<Arc<ClientConfig>, InputError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let algorithms = provider.signature_verification_algorithms;
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions");
    let builder = if insecure {
        builder.dangerous().with_custom_certificate_verifier(Arc::new(AnyCertificate(algorithms)))
    } else {
        builder.with_root_certificates(roots(spec)?)
    };
    let mut config = match (&spec.cert, &spec.key) {
        (None, None) => builder.with_no_client_auth(),
        (Some(cert), Some(key)) => {
            let chain = certificates(cert, "tls.cert (--cert)")?;
            let bytes = std::fs::read(key).map_err(|e| bad(key, "tls.key (--key)", format!("cannot read it: {e}")))?;
            let private = PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| {
                bad(key, "tls.key (--key)", format!("no private key in it ({e}): expected PEM 'BEGIN PRIVATE KEY', 'BEGIN RSA PRIVATE KEY' or 'BEGIN EC PRIVATE KEY'"))
            })?;
            builder.with_client_auth_cert(chain, private).map_err(|e| {
                bad(key, "tls.key (--key)", format!("does not go with the certificate {}: {e}", cert.display()))
            })?
        }
        (Some(_), None) => {
            return Err(InputError::Usage(
                "tls.cert (--cert) needs tls.key (--key): the certificate's private key".into(),
            ))
        }
        (None, Some(_)) => {
            return Err(InputError::Usage(
                "tls.key (--key) needs tls.cert (--cert): the certificate it belongs to".into(),
            ))
        }
    };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

/// The public webpki roots, the CA bundle's certificates and, when asked, the system's store.
fn roots(spec: &TlsSpec) -> Result<RootCertStore, InputError> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = &spec.cacert {
        for cert in certificates(path, "tls.cacert (--cacert)")? {
            roots.add(cert).map_err(|e| bad(path, "tls.cacert (--cacert)", format!("not a CA certificate: {e}")))?;
        }
    }
    if spec.system_roots {
        let found = rustls_native_certs::load_native_certs();
        let (added, _) = roots.add_parsable_certificates(found.certs);
        if added == 0 {
            let why = found.errors.first().map_or(String::new(), |e| format!(" ({e})"));
            return Err(InputError::Usage(format!(
                "tls.system_roots (--system-roots): the system's certificate store is empty{why}; install it (Debian: ca-certificates) or pass --cacert FILE"
            )));
        }
    }
    Ok(roots)
}

/// The name a connection sends in SNI and checks the certificate against.
pub fn server_name(spec: &TlsSpec, host: &str) -> Result<ServerName<'static>, InputError> {
    let name = spec.server_name.as_deref().unwrap_or(host);
    ServerName::try_from(name.to_string()).map_err(|e| {
        InputError::Usage(format!("'{name}' is not a TLS server name ({e}): give a DNS name or an address with --sni"))
    })
}

/// The address connections to `host:port` go to, from entries `host:port:address` (as curl's
/// `--resolve`); an entry that names another host or port is a mistake worth saying.
pub fn connect_to(entries: &[String], host: &str, port: u16) -> Result<Option<IpAddr>, InputError> {
    let mut found = None;
    for entry in entries {
        let bad = |why: &str| InputError::Usage(format!("resolve '{entry}' (--resolve): {why}"));
        let mut parts = entry.splitn(3, ':');
        let (Some(h), Some(p), Some(a)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("write it as HOST:PORT:ADDRESS, e.g. staging.internal:443:127.0.0.1"));
        };
        let p: u16 = p.parse().map_err(|_| bad("the port must be a number from 1 to 65535"))?;
        let a: IpAddr = a
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .map_err(|_| bad("the address must be an IP address, e.g. 127.0.0.1 or [::1]"))?;
        if !h.eq_ignore_ascii_case(host) || p != port {
            return Err(bad(&format!(
                "the target is {host}:{port}; an entry for another host or port would do nothing"
            )));
        }
        found = Some(a);
    }
    Ok(found)
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

#[cfg(test)]
mod tests {
    use super::*;

    const H1: &[&[u8]] = &[b"http/1.1"];

    #[test]
    fn resolve_entries() {
        let e = |s: &str| vec![s.to_string()];
        assert_eq!(
            connect_to(&e("staging.internal:443:127.0.0.1"), "staging.internal", 443).unwrap(),
            Some([127, 0, 0, 1].into())
        );
        assert_eq!(connect_to(&e("h:8443:[::1]"), "H", 8443).unwrap(), Some("::1".parse().unwrap()));
        assert_eq!(connect_to(&[], "h", 1).unwrap(), None);
        let err = |s: &str| connect_to(&e(s), "h", 443).unwrap_err().to_string();
        assert!(err("h:443").contains("HOST:PORT:ADDRESS"));
        assert!(err("h:x:127.0.0.1").contains("port"));
        assert!(err("h:443:nowhere").contains("IP address"));
        assert!(err("other:443:127.0.0.1").contains("the target is h:443"));
    }

    #[test]
    fn files_that_hold_no_certificate_or_key_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "hello\n").unwrap();
        let spec = TlsSpec { cacert: Some(junk.clone()), ..TlsSpec::default() };
        let e = client_config(&spec, false, H1).unwrap_err().to_string();
        assert!(e.contains("junk.pem") && e.contains("BEGIN CERTIFICATE"), "{e}");
        let missing = TlsSpec { cacert: Some(dir.path().join("none.pem")), ..TlsSpec::default() };
        assert!(client_config(&missing, false, H1).unwrap_err().to_string().contains("cannot read it"));
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let (c, k) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
        std::fs::write(&c, cert.cert.pem()).unwrap();
        std::fs::write(&k, cert.key_pair.serialize_pem()).unwrap();
        let ok = TlsSpec { cacert: Some(c.clone()), cert: Some(c.clone()), key: Some(k), ..TlsSpec::default() };
        client_config(&ok, false, H1).unwrap();
        let wrong = TlsSpec { cert: Some(c), key: Some(junk), ..TlsSpec::default() };
        assert!(client_config(&wrong, false, H1).unwrap_err().to_string().contains("no private key"));
    }
}
