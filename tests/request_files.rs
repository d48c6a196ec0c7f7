//! Requests from files, as a user of a targets-file load tool expects: a targets file (request
//! lines with headers and `@body` files, or JSON lines) as the request mix, `--body @FILE`,
//! `-H @FILE`, and a plan's `targets` and `body_file` read from the plan's folder. A recording
//! server on 127.0.0.1 checks that what was sent is byte for byte what the files say.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod common;
use common::{headroom, results};

/// One request as the server read it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A keep-alive HTTP/1.1 server that answers 200 to everything and keeps what it read; each
/// connection ends when the client closes it or after 10 s idle.
struct Recorder {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

fn serve(stream: TcpStream, seen: Arc<Mutex<Vec<Seen>>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, path) = (parts.next().unwrap_or("").to_string(), parts.next().unwrap_or("").to_string());
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_string(), v.trim().to_string()));
            }
        }
        let length: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length.min(1 << 20)];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        seen.lock().unwrap().push(Seen { method, path, headers, body });
        if writer.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").is_err() {
            return;
        }
    }
}

impl Recorder {
    fn start() -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let s = s.clone();
                std::thread::spawn(move || serve(stream, s));
            }
        });
        Recorder { url, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// Bytes no text field would carry: a NUL, a high byte, a newline.
const ORDER: &[u8] = b"{\"sku\":\"a\x00b\",\"note\":\"\xff\n\"}";

#[test]
fn a_targets_file_is_the_request_mix_and_sends_its_bodies_and_headers() {
    let server = Recorder::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("bodies")).unwrap();
    std::fs::write(dir.path().join("bodies/order.bin"), ORDER).unwrap();
    let targets = dir.path().join("targets.txt");
    let u = &server.url;
    std::fs::write(
        &targets,
        format!(
            "# two GETs of /items for each order\nGET {u}/items\n\nPOST {u}/orders\nContent-Type: application/octet-stream\n\
             X-Tenant: blue\n@bodies/order.bin\n\nGET {u}/items\n"
        ),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    headroom()
        .current_dir(elsewhere.path())
        .arg("run")
        .arg("--targets")
        .arg(&targets)
        .args(["--rate", "30", "--duration", "1s", "--out"])
        .arg(out.path())
        .assert()
        .success();
    let seen = server.seen();
    let orders: Vec<&Seen> = seen.iter().filter(|s| s.path == "/orders").collect();
    let items = seen.iter().filter(|s| s.method == "GET" && s.path == "/items").count();
    assert_eq!(orders.len() + items, 30, "{seen:?}");
    assert_eq!(items, 20, "weights 2:1 from the repeated entry");
    for o in &orders {
        assert_eq!(o.method, "POST");
        assert_eq!(o.body, ORDER, "the file's bytes, as they are");
        assert_eq!(o.header("x-tenant"), Some("blue"));
        assert_eq!(o.header("content-type"), Some("application/octet-stream"));
    }
    let v = results(out.path());
    let names: Vec<&str> =
        v["steps"][0]["per_request"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["GET /items", "POST /orders"]);
    assert_eq!(v["target"], server.url.as_str());
}

#[test]
fn json_lines_targets_with_paths_take_the_host_from_target() {
    let server = Recorder::start();
    let dir = tempfile::tempdir().unwrap();
    let targets = dir.path().join("targets.jsonl");
    std::fs::write(
        &targets,
        "{\"method\": \"PUT\", \"url\": \"/cart/1\", \"headers\": {\"Accept\": [\"application/json\", \"text/plain\"]}, \"body\": \"{\\\"qty\\\": 2}\"}\n\
         {\"path\": \"/cart\", \"name\": \"cart\", \"weight\": 3}\n",
    )
    .unwrap();
    // Paths alone need the host.
    headroom()
        .arg("run")
        .arg("--targets")
        .arg(&targets)
        .args(["--rate", "8", "--duration", "1s", "--out", "-"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--target URL"));
    headroom()
        .arg("run")
        .arg("--targets")
        .arg(&targets)
        .args(["--target", &server.url, "--rate", "8", "--duration", "1s", "--out", "-"])
        .assert()
        .success();
    let seen = server.seen();
    let puts: Vec<&Seen> = seen.iter().filter(|s| s.method == "PUT").collect();
    assert_eq!((puts.len(), seen.len()), (2, 8), "{seen:?}");
    assert_eq!(puts[0].body, b"{\"qty\": 2}");
    assert_eq!(puts[0].header("accept"), Some("application/json, text/plain"));
}

#[test]
fn body_and_headers_from_files_on_the_command_line() {
    let server = Recorder::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("order.bin"), ORDER).unwrap();
    std::fs::write(
        dir.path().join("headers.txt"),
        "# auth for staging\nAuthorization: Bearer t0k3n\n\nX-Tenant: green\n",
    )
    .unwrap();
    headroom()
        .current_dir(dir.path())
        .args(["run", "--target", &format!("{}/orders", server.url), "--method", "POST"])
        .args(["--body", "@order.bin", "-H", "@headers.txt", "--rate", "5", "--duration", "1s", "--out", "-"])
        .assert()
        .success();
    let seen = server.seen();
    assert_eq!(seen.len(), 5);
    assert!(seen.iter().all(|s| s.body == ORDER && s.header("authorization") == Some("Bearer t0k3n")));
    assert!(seen.iter().all(|s| s.header("x-tenant") == Some("green")));
    std::fs::write(dir.path().join("bad-headers.txt"), "X-Ok: 1\nno colon here\n").unwrap();
    headroom()
        .current_dir(dir.path())
        .args(["run", "--target", &server.url, "-H", "@bad-headers.txt", "--rate", "5", "--duration", "1s"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("bad-headers.txt:2:"));
}

#[test]
fn a_plan_reads_its_targets_and_body_files_from_its_own_folder() {
    let server = Recorder::start();
    let dir = tempfile::tempdir().unwrap();
    let plans = dir.path().join("plans");
    std::fs::create_dir_all(plans.join("data")).unwrap();
    std::fs::write(plans.join("data/order.bin"), ORDER).unwrap();
    std::fs::write(plans.join("data/mix.txt"), "GET /a\nPOST /b\n@order.bin\n").unwrap();
    let profile = "[profile]\nkind = \"load\"\nrate = \"6\"\nduration = \"1s\"\n";
    std::fs::write(
        plans.join("mix.toml"),
        format!("target = \"{}\"\ntargets = \"data/mix.txt\"\n{profile}", server.url),
    )
    .unwrap();
    std::fs::write(
        plans.join("one.toml"),
        format!(
            "target = \"{}\"\n[[requests]]\nname = \"order\"\nmethod = \"POST\"\npath = \"/c\"\nbody_file = \"data/order.bin\"\n{profile}",
            server.url
        ),
    )
    .unwrap();
    for plan in ["plans/mix.toml", "plans/one.toml"] {
        headroom().current_dir(dir.path()).args(["run", plan, "--out", "-"]).assert().success();
    }
    let seen = server.seen();
    let posts: Vec<&Seen> = seen.iter().filter(|s| s.method == "POST").collect();
    assert_eq!((seen.len(), posts.len()), (12, 9), "{seen:?}");
    assert!(posts.iter().all(|s| s.body == ORDER));

    // Mistakes are named with their file and line.
    std::fs::write(plans.join("data/mix.txt"), "GET /a\nPOST /b\nthis is not a header\n").unwrap();
    headroom()
        .current_dir(dir.path())
        .args(["run", "plans/mix.toml", "--out", "-"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("mix.txt:3:"));
    std::fs::remove_file(plans.join("data/order.bin")).unwrap();
    headroom()
        .current_dir(dir.path())
        .args(["run", "plans/one.toml", "--out", "-"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("data/order.bin"))
        .stderr(predicates::str::contains("requests[0].body_file"));
}
