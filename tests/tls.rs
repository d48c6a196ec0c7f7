//! TLS as a staging service runs it, against a real nginx on 127.0.0.1: a certificate from an
//! internal CA made here (rcgen), trusted with `--cacert` and refused without it (the error names
//! `--cacert` before `--insecure`) or with another CA; a server that requires a client
//! certificate (mutual TLS), answered only with `--cert` and `--key`; a target given by address
//! with `--sni`, or by name sent to 127.0.0.1 with `--resolve` (no name is ever looked up); the
//! same settings from a plan's `[tls]` table with paths relative to the plan, for the request mix
//! and for journeys.
//!
//! Without nginx the tests say so and pass, unless HEADROOM_REQUIRE_NGINX is set (as `.ci/run`
//! does), where its absence is a failure.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};

mod common;
use common::{headroom, results};

const NGINX: &str = "/usr/sbin/nginx";

fn installed() -> bool {
    if Path::new(NGINX).exists() {
        return true;
    }
    assert!(
        std::env::var_os("HEADROOM_REQUIRE_NGINX").is_none(),
        "HEADROOM_REQUIRE_NGINX is set but {NGINX} is missing: apt-get install nginx-light"
    );
    eprintln!("skipped: no {NGINX} (apt-get install nginx-light to run this test)");
    false
}

/// A CA: its certificate and key.
struct Ca {
    cert: Certificate,
    key: KeyPair,
}

fn ca(name: &str) -> Ca {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    params.distinguished_name.push(DnType::CommonName, name);
    Ca { cert: params.self_signed(&key).unwrap(), key }
}

/// A leaf certificate signed by `ca`, written to `dir/{stem}.pem` and `dir/{stem}.key`.
fn leaf(ca: &Ca, names: &[&str], purpose: ExtendedKeyUsagePurpose, dir: &Path, stem: &str) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    params.extended_key_usages = vec![purpose];
    params.distinguished_name.push(DnType::CommonName, names.first().copied().unwrap_or("headroom test client"));
    let cert = params.signed_by(&key, &ca.cert, &ca.key).unwrap();
    std::fs::write(dir.join(format!("{stem}.pem")), cert.pem()).unwrap();
    std::fs::write(dir.join(format!("{stem}.key")), key.serialize_pem()).unwrap();
}

/// nginx on two free loopback ports: `tls` (a certificate for localhost and staging.internal
/// from the internal CA) and `mtls` (the same, requiring a client certificate from the client
/// CA). Killed when dropped.
struct Nginx {
    child: Child,
    tls: u16,
    mtls: u16,
    /// The same certificate, with HTTP/2 offered by ALPN; its access log records each request's
    /// protocol in `h2.log`.
    h2: u16,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start_nginx(dir: &Path) -> Nginx {
    let (tls, mtls, h2) = (free_port(), free_port(), free_port());
    let d = dir.display();
    std::fs::create_dir_all(dir.join("tmp")).unwrap();
    let config = format!(
        "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
         events {{ worker_connections 256; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/tmp/body;\n  proxy_temp_path {d}/tmp/proxy;\n\
           fastcgi_temp_path {d}/tmp/fastcgi;\n  uwsgi_temp_path {d}/tmp/uwsgi;\n  scgi_temp_path {d}/tmp/scgi;\n\
           ssl_certificate {d}/server.pem;\n  ssl_certificate_key {d}/server.key;\n\
           server {{ listen 127.0.0.1:{tls} ssl; location / {{ return 200 \"ok\\n\"; }} }}\n\
           server {{ listen 127.0.0.1:{mtls} ssl; ssl_client_certificate {d}/client-ca.pem; ssl_verify_client on;\n\
             location / {{ return 200 \"mtls\\n\"; }} }}\n\
           log_format protocol '$server_protocol';\n\
           server {{ listen 127.0.0.1:{h2} ssl http2; access_log {d}/h2.log protocol;\n\
             location / {{ return 200 \"h2\\n\"; }} }}\n}}\n"
    );
    std::fs::write(dir.join("nginx.conf"), config).unwrap();
    let child = Command::new(NGINX)
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .arg("-e")
        .arg(dir.join("error.log"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let nginx = Nginx { child, tls, mtls, h2 };
    let deadline = Instant::now() + Duration::from_secs(10);
    while [tls, mtls, h2].iter().any(|p| TcpStream::connect(("127.0.0.1", *p)).is_err()) {
        let log = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
        assert!(Instant::now() < deadline, "nginx did not start: {log}");
        std::thread::sleep(Duration::from_millis(50));
    }
    nginx
}

/// The certificates (server and client, each from its own CA, and a CA nobody used) and nginx.
struct Setup {
    dir: tempfile::TempDir,
    nginx: Nginx,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        let internal = ca("headroom test internal CA");
        std::fs::write(p.join("ca.pem"), internal.cert.pem()).unwrap();
        leaf(&internal, &["localhost", "staging.internal"], ExtendedKeyUsagePurpose::ServerAuth, p, "server");
        let clients = ca("headroom test client CA");
        std::fs::write(p.join("client-ca.pem"), clients.cert.pem()).unwrap();
        leaf(&clients, &["load generator"], ExtendedKeyUsagePurpose::ClientAuth, p, "client");
        std::fs::write(p.join("other-ca.pem"), ca("headroom test other CA").cert.pem()).unwrap();
        let nginx = start_nginx(p);
        Setup { dir, nginx }
    }

    fn file(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

struct Ran {
    code: i32,
    stderr: String,
    results: Option<serde_json::Value>,
}

/// `headroom run` of 20 requests in 1 s at `url` with `extra` flags.
fn run(url: &str, extra: &[&str]) -> Ran {
    let out = tempfile::tempdir().unwrap();
    let o = headroom()
        .args(["run", "--target", url, "--rate", "20", "--duration", "1s", "--out"])
        .arg(out.path())
        .args(extra)
        .output()
        .unwrap();
    let results = out.path().join("results.json").exists().then(|| results(out.path()));
    Ran { code: o.status.code().unwrap_or(-1), stderr: String::from_utf8_lossy(&o.stderr).into_owned(), results }
}

fn all_answered(r: &Ran, what: &str) {
    assert_eq!(r.code, 0, "{what}: {}", r.stderr);
    let v = r.results.as_ref().unwrap();
    assert_eq!(v["steps"][0]["requests"], 20, "{what}");
    assert_eq!(v["steps"][0]["error_rate"], 0.0, "{what}: {}", v["steps"][0]["errors"]);
}

#[test]
fn an_internal_ca_is_trusted_with_cacert_and_refused_without_it() {
    if !installed() {
        return;
    }
    let s = Setup::new();
    let url = format!("https://localhost:{}/", s.nginx.tls);
    let refused = run(&url, &[]);
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    let (cacert, insecure) = (refused.stderr.find("--cacert"), refused.stderr.find("--insecure"));
    assert!(cacert.is_some() && cacert < insecure, "names --cacert before --insecure: {}", refused.stderr);
    assert!(
        refused.stderr.contains("UnknownIssuer") || refused.stderr.contains("unknown issuer"),
        "{}",
        refused.stderr
    );

    all_answered(&run(&url, &["--cacert", &s.file("ca.pem")]), "--cacert");
    let other = run(&url, &["--cacert", &s.file("other-ca.pem")]);
    assert_eq!(other.code, 3, "another CA is not this server's: {}", other.stderr);
    assert!(other.stderr.contains("cannot talk TLS"), "{}", other.stderr);

    // The system's store, here the one SSL_CERT_FILE names (as on a machine whose store holds
    // the internal CA).
    let out = tempfile::tempdir().unwrap();
    let o = headroom()
        .env("SSL_CERT_FILE", s.file("ca.pem"))
        .env_remove("SSL_CERT_DIR")
        .args(["run", "--target", &url, "--rate", "20", "--duration", "1s", "--system-roots", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "--system-roots: {}", String::from_utf8_lossy(&o.stderr));

    // By address, checked against the name the certificate carries.
    let by_address = format!("https://127.0.0.1:{}/", s.nginx.tls);
    all_answered(&run(&by_address, &["--cacert", &s.file("ca.pem"), "--sni", "staging.internal"]), "--sni");
    let wrong_name = run(&by_address, &["--cacert", &s.file("ca.pem"), "--sni", "prod.internal"]);
    assert_eq!(wrong_name.code, 3, "a name the certificate does not carry: {}", wrong_name.stderr);
    assert!(wrong_name.stderr.contains("--sni NAME"), "{}", wrong_name.stderr);
    // By name, sent to the loopback address: the name is never looked up.
    let port = s.nginx.tls;
    let by_name = format!("https://staging.internal:{port}/");
    let r = run(&by_name, &["--cacert", &s.file("ca.pem"), "--resolve", &format!("staging.internal:{port}:127.0.0.1")]);
    all_answered(&r, "--resolve");
    assert_eq!(r.results.unwrap()["plan"]["resolve"][0], format!("staging.internal:{port}:127.0.0.1"));
}

#[test]
fn a_server_that_requires_a_client_certificate_answers_only_with_one() {
    if !installed() {
        return;
    }
    let s = Setup::new();
    let url = format!("https://localhost:{}/", s.nginx.mtls);
    let without = run(&url, &["--cacert", &s.file("ca.pem")]);
    // nginx completes the handshake and answers 400 to a client without a certificate.
    let v = without.results.as_ref().unwrap_or_else(|| panic!("no results: {}", without.stderr));
    assert_eq!(v["steps"][0]["errors"]["http_4xx"], 20, "{}", v["steps"][0]["errors"]);
    let with =
        run(&url, &["--cacert", &s.file("ca.pem"), "--cert", &s.file("client.pem"), "--key", &s.file("client.key")]);
    all_answered(&with, "--cert and --key");
    // A key that is not the certificate's.
    let mismatched =
        run(&url, &["--cacert", &s.file("ca.pem"), "--cert", &s.file("client.pem"), "--key", &s.file("server.key")]);
    assert_eq!(mismatched.code, 2, "{}", mismatched.stderr);
    assert!(mismatched.stderr.contains("does not go with the certificate"), "{}", mismatched.stderr);
}

/// Writes a plan into its own folder with the certificates beside it, named by relative paths.
fn plan_with_tls(s: &Setup, body: &str) -> PathBuf {
    let folder = s.dir.path().join("plans").join("certs");
    std::fs::create_dir_all(&folder).unwrap();
    for f in ["ca.pem", "client.pem", "client.key"] {
        std::fs::copy(s.dir.path().join(f), folder.join(f)).unwrap();
    }
    let port = s.nginx.mtls;
    let plan = s.dir.path().join("plans").join("staging.toml");
    let text = format!(
        "target = \"https://staging.internal:{port}\"\nresolve = [\"staging.internal:{port}:127.0.0.1\"]\n\
         [tls]\ncacert = \"certs/ca.pem\"\ncert = \"certs/client.pem\"\nkey = \"certs/client.key\"\n{body}\n\
         [profile]\nkind = \"load\"\nrate = \"20\"\nduration = \"1s\"\n"
    );
    std::fs::write(&plan, text).unwrap();
    plan
}

#[test]
fn a_plan_names_its_certificates_beside_it_for_requests_and_journeys() {
    if !installed() {
        return;
    }
    let s = Setup::new();
    let elsewhere = tempfile::tempdir().unwrap();
    for (what, body) in [
        ("requests", "[[requests]]\nname = \"home\"\npath = \"/\"\n"),
        ("journeys", "[[journeys]]\nname = \"browse\"\n[[journeys.steps]]\nname = \"home\"\npath = \"/\"\n"),
    ] {
        let plan = plan_with_tls(&s, body);
        let out = tempfile::tempdir().unwrap();
        let o = headroom()
            .current_dir(elsewhere.path())
            .arg("run")
            .arg(&plan)
            .arg("--out")
            .arg(out.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{what}: {stderr}");
        let v = results(out.path());
        assert_eq!(v["steps"][0]["error_rate"], 0.0, "{what}: {}", v["steps"][0]["errors"]);
        assert!(v["steps"][0]["requests"].as_u64().unwrap() >= 19, "{what}: {}", v["steps"][0]["requests"]);
    }
    // A missing file is named with the plan's folder.
    let plan = plan_with_tls(&s, "[[requests]]\nname = \"home\"\npath = \"/\"\n");
    std::fs::remove_file(s.dir.path().join("plans/certs/ca.pem")).unwrap();
    headroom()
        .arg("run")
        .arg(&plan)
        .args(["--out", "-"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("plans/certs/ca.pem"))
        .stderr(predicates::str::contains("tls.cacert"));
}

#[test]
fn tls_settings_that_cannot_apply_are_refused_before_any_request() {
    // No server needed: each is refused while the plan is read.
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate\n").unwrap();
    let junk = junk.display().to_string();
    let cases: [(&[&str], &str); 5] = [
        (&["--target", "http://127.0.0.1:9/", "--cacert", &junk], "plain http"),
        (&["--target", "https://127.0.0.1:9/", "--cacert", &junk], "BEGIN CERTIFICATE"),
        (&["--target", "https://127.0.0.1:9/", "--cert", &junk], "--key"),
        (&["--target", "https://127.0.0.1:9/", "--resolve", "other:443:127.0.0.1"], "the target is 127.0.0.1:9"),
        (&["--target", "https://127.0.0.1:9/", "--resolve", "127.0.0.1:9:nowhere"], "IP address"),
    ];
    for (flags, says) in cases {
        headroom()
            .arg("run")
            .args(flags)
            .args(["--rate", "1", "--duration", "1s", "--out", "-"])
            .assert()
            .code(2)
            .stderr(predicates::str::contains(says));
    }
}

#[test]
fn http2_is_negotiated_by_alpn_and_refused_where_it_is_not_offered() {
    if !installed() {
        return;
    }
    let s = Setup::new();
    let ca = s.file("ca.pem");
    let h2 = format!("https://localhost:{}/", s.nginx.h2);
    for flag in [&["--http2"][..], &["--http", "auto"][..]] {
        let r = run(&h2, &[flag, &["--cacert", &ca][..]].concat());
        all_answered(&r, &format!("{flag:?}"));
        assert_eq!(r.results.unwrap()["protocol"], "HTTP/2", "{flag:?}");
    }
    // nginx itself says every request came over HTTP/2.
    let log = std::fs::read_to_string(s.dir.path().join("h2.log")).unwrap();
    assert_eq!(log.lines().count(), 40, "{log}");
    assert!(log.lines().all(|l| l == "HTTP/2.0"), "{log}");
    // A server that offers only HTTP/1.1: --http2 says so, auto takes HTTP/1.1.
    let h1 = format!("https://localhost:{}/", s.nginx.tls);
    let refused = run(&h1, &["--http2", "--cacert", &ca]);
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    assert!(refused.stderr.contains("did not offer HTTP/2"), "{}", refused.stderr);
    let auto = run(&h1, &["--http", "auto", "--cacert", &ca]);
    all_answered(&auto, "auto against HTTP/1.1");
    assert_eq!(auto.results.unwrap()["protocol"], "HTTP/1.1");
}
