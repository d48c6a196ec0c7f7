//! A targets file: many requests, one per entry, as a request mix (the format load testers
//! know from `-targets` files). Two forms, told apart by the first entry:
//!
//! ```text
//! # comments and blank lines between entries
//! GET /items
//! POST https://staging.example/orders
//! Content-Type: application/json
//! @order.json
//! ```
//!
//! an entry being `METHOD URL-or-path`, then its headers, then optionally `@FILE` for its body;
//! or JSON lines, one object per line:
//!
//! ```text
//! {"method": "POST", "url": "/orders", "headers": {"Content-Type": "application/json"}, "body": "{}"}
//! ```
//!
//! with `url` (or `path`), and optionally `method`, `headers` (a value may be a list),
//! `body` or `body_file`, `name`, `weight` and `expect_status`. Absolute URLs must share one
//! origin, the run's target. Entries that are the same request add up as its weight.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::RequestSpec;
use crate::error::{quote, InputError};

/// The requests of a targets file, and the origin its absolute URLs name (when they do).
#[derive(Debug, Clone, PartialEq)]
pub struct Targets {
    pub requests: Vec<RequestSpec>,
    pub origin: Option<String>,
}

/// One JSON-lines entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Json {
    #[serde(default)]
    method: Option<String>,
    #[serde(default, alias = "path")]
    url: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, OneOrMany>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    body_file: Option<PathBuf>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    weight: Option<u32>,
    #[serde(default)]
    expect_status: Option<u16>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// What makes two entries the same request: name as given, method, path, headers, body, body
/// file and expected status.
type Same = (String, String, String, BTreeMap<String, String>, Option<String>, Option<PathBuf>, Option<u16>);

/// An entry before it becomes a request: where it was, and what it asks.
struct Entry {
    line: u64,
    method: String,
    url: String,
    headers: BTreeMap<String, String>,
    body: Option<String>,
    body_file: Option<PathBuf>,
    name: Option<String>,
    weight: u32,
    expect_status: Option<u16>,
}

/// Reads a targets file; bodies named in it by relative path are read from its folder.
pub fn read(path: &Path) -> Result<Targets, InputError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| InputError::BadFile {
        file: file.clone(),
        message: format!("cannot read the targets file: {e}"),
    })?;
    let dir = path.parent().unwrap_or(Path::new(""));
    parse(&text, &file, dir)
}

/// Parses a targets file's text; `file` names it in errors, `dir` is where its bodies are.
pub fn parse(text: &str, file: &str, dir: &Path) -> Result<Targets, InputError> {
    let first = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#'));
    let entries = match first {
        None => {
            return Err(InputError::BadFile {
                file: file.into(),
                message: "no targets: write one request per entry, e.g. 'GET /items'".into(),
            })
        }
        Some(l) if l.starts_with('{') => json_lines(text, file)?,
        Some(_) => http_entries(text, file)?,
    };
    let mut origin: Option<(String, u64)> = None;
    let mut requests: Vec<RequestSpec> = Vec::new();
    // Each request by what it asks (all but its weight, under the name the entry gave it), and
    // how many requests share each given name: one pass, however long the file.
    let mut seen: HashMap<Same, usize> = HashMap::new();
    let mut named: HashMap<String, usize> = HashMap::new();
    for e in entries {
        let bad = |message: String| InputError::BadRow { file: file.into(), line: e.line, message };
        let path = match e.url.find("://") {
            Some(i) => {
                let scheme = &e.url[..i];
                if scheme != "http" && scheme != "https" {
                    return Err(bad(format!(
                        "'{}': expected http:// or https://, or a path such as /items",
                        quote(&e.url)
                    )));
                }
                let at = e.url[i + 3..].find('/').map_or(e.url.len(), |j| i + 3 + j);
                let (o, p) = e.url.split_at(at);
                match &origin {
                    Some((seen, line)) if seen != o => {
                        return Err(bad(format!(
                            "{o} is another origin than line {line}'s {seen}: a run loads one target; split the file by host"
                        )))
                    }
                    None => origin = Some((o.to_string(), e.line)),
                    _ => {}
                }
                if p.is_empty() {
                    "/".to_string()
                } else {
                    p.to_string()
                }
            }
            None if e.url.starts_with('/') => e.url.clone(),
            None => {
                return Err(bad(format!(
                    "'{}': expected a URL (http://host/path) or a path starting with /",
                    quote(&e.url)
                )))
            }
        };
        if e.body.is_some() && e.body_file.is_some() {
            return Err(bad("body and body_file: give one".into()));
        }
        let body_file = e.body_file.map(|p| if p.is_relative() { dir.join(p) } else { p });
        let name = e.name.unwrap_or_else(|| format!("{} {path}", e.method));
        let same: Same = (
            name.clone(),
            e.method.clone(),
            path.clone(),
            e.headers.clone(),
            e.body.clone(),
            body_file.clone(),
            e.expect_status,
        );
        // The same request again adds to its weight; another request of the same name gets a
        // number, so that each keeps its own percentiles.
        if let Some(&i) = seen.get(&same) {
            requests[i].weight += e.weight;
            continue;
        }
        let n = named.entry(name.clone()).or_insert(0);
        *n += 1;
        let name = if *n > 1 { format!("{name} #{n}") } else { name };
        seen.insert(same, requests.len());
        requests.push(RequestSpec {
            name,
            method: e.method,
            path,
            weight: e.weight,
            headers: e.headers,
            body: e.body,
            body_file,
            expect_status: e.expect_status,
            slo: Vec::new(),
        });
    }
    Ok(Targets { requests, origin: origin.map(|(o, _)| o) })
}

fn method(word: &str, line: u64, file: &str) -> Result<String, InputError> {
    let m = word.to_ascii_uppercase();
    if m.is_empty() || !m.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(InputError::BadRow {
            file: file.into(),
            line,
            message: format!("'{}' is not an HTTP method: write an entry as 'GET /path'", quote(word)),
        });
    }
    Ok(m)
}

/// The `METHOD URL` form: headers follow their request line, `@FILE` its body, a blank line or
/// the next request line ends it.
fn http_entries(text: &str, file: &str) -> Result<Vec<Entry>, InputError> {
    let mut entries: Vec<Entry> = Vec::new();
    let mut open = false;
    for (n, raw) in text.lines().enumerate() {
        let line = n as u64 + 1;
        let l = raw.trim();
        if l.is_empty() {
            open = false;
            continue;
        }
        if l.starts_with('#') {
            continue;
        }
        let bad = |message: String| InputError::BadRow { file: file.into(), line, message };
        if let Some(body) = l.strip_prefix('@') {
            let e = entries
                .last_mut()
                .filter(|_| open)
                .ok_or_else(|| bad("a body file '@…' follows its request line".into()))?;
            if e.body_file.is_some() {
                return Err(bad("a second body file for one request".into()));
            }
            e.body_file = Some(PathBuf::from(body.trim()));
            continue;
        }
        // A request line is METHOD and a URL or path; anything else after one is a header.
        let mut words = l.split_whitespace();
        let (first, second, rest) = (words.next().unwrap_or(""), words.next(), words.next());
        let request_line =
            second.is_some_and(|s| s.starts_with('/') || s.contains("://")) && rest.is_none() && !first.ends_with(':');
        if request_line {
            entries.push(Entry {
                line,
                method: method(first, line, file)?,
                url: second.unwrap_or("/").to_string(),
                headers: BTreeMap::new(),
                body: None,
                body_file: None,
                name: None,
                weight: 1,
                expect_status: None,
            });
            open = true;
            continue;
        }
        let e = entries.last_mut().filter(|_| open).ok_or_else(|| {
            bad(format!("'{}': expected a request line such as 'GET /items' (a header follows its request)", quote(l)))
        })?;
        if e.body_file.is_some() {
            return Err(bad("a header after the body file: headers come first".into()));
        }
        let (k, v) = l.split_once(':').ok_or_else(|| {
            bad(format!("'{}': expected a header 'Name: value' or a request line 'GET /path'", quote(l)))
        })?;
        e.headers.insert(k.trim().to_string(), v.trim().to_string());
    }
    Ok(entries)
}

fn json_lines(text: &str, file: &str) -> Result<Vec<Entry>, InputError> {
    let mut entries = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = n as u64 + 1;
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let bad = |message: String| InputError::BadRow { file: file.into(), line, message };
        let j: Json = serde_json::from_str(l).map_err(|e| bad(format!("{e} in '{}'", quote(l))))?;
        let url = j.url.ok_or_else(|| bad("no \"url\" (or \"path\"): say where the request goes".into()))?;
        let weight = j.weight.unwrap_or(1);
        if weight == 0 {
            return Err(bad("weight: must be at least 1".into()));
        }
        let headers = j
            .headers
            .into_iter()
            .map(|(k, v)| {
                let v = match v {
                    OneOrMany::One(v) => v,
                    OneOrMany::Many(vs) => vs.join(", "),
                };
                (k, v)
            })
            .collect();
        entries.push(Entry {
            line,
            method: method(j.method.as_deref().unwrap_or("GET"), line, file)?,
            url,
            headers,
            body: j.body,
            body_file: j.body_file,
            name: j.name,
            weight,
            expect_status: j.expect_status,
        });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Result<Targets, String> {
        parse(text, "t.txt", Path::new("/data")).map_err(|e| e.to_string())
    }

    #[test]
    fn request_lines_headers_and_bodies() {
        let t = parsed(
            "# mix\nGET /items\n\nPOST http://127.0.0.1:8080/orders\nContent-Type: application/json\n@order.json\n\
             GET /items\nget http://127.0.0.1:8080/\n",
        )
        .unwrap();
        assert_eq!(t.origin.as_deref(), Some("http://127.0.0.1:8080"));
        let r = &t.requests;
        assert_eq!(r.len(), 3, "{r:?}");
        assert_eq!((r[0].name.as_str(), r[0].weight), ("GET /items", 2));
        assert_eq!(r[1].headers["Content-Type"], "application/json");
        assert_eq!(r[1].body_file.as_deref(), Some(Path::new("/data/order.json")));
        assert_eq!((r[2].method.as_str(), r[2].path.as_str()), ("GET", "/"));
    }

    #[test]
    fn json_lines_entries() {
        let t = parsed(
            "{\"method\":\"POST\",\"url\":\"/orders\",\"headers\":{\"Accept\":[\"a\",\"b\"]},\"body\":\"{}\"}\n\
             {\"path\":\"/orders\",\"weight\":3,\"name\":\"list\"}\n{\"method\":\"post\",\"url\":\"/orders\",\"body\":\"[]\"}\n",
        )
        .unwrap();
        let r = &t.requests;
        assert_eq!(r[0].headers["Accept"], "a, b");
        assert_eq!((r[1].name.as_str(), r[1].weight, r[1].method.as_str()), ("list", 3, "GET"));
        // Another request of the same name keeps its own.
        assert_eq!(r[2].name, "POST /orders #2");
        // And the same again adds to that one's weight, whichever number it has.
        let t = parsed(
            "{\"method\":\"POST\",\"url\":\"/o\",\"body\":\"a\"}\n{\"method\":\"POST\",\"url\":\"/o\",\"body\":\"b\"}\n\
             {\"method\":\"POST\",\"url\":\"/o\",\"body\":\"b\"}\n",
        )
        .unwrap();
        let w: Vec<(&str, u32)> = t.requests.iter().map(|r| (r.name.as_str(), r.weight)).collect();
        assert_eq!(w, [("POST /o", 1), ("POST /o #2", 2)]);
        assert_eq!(t.origin, None);
    }

    #[test]
    fn mistakes_name_the_line() {
        let e = |t: &str| parsed(t).unwrap_err();
        assert!(e("").contains("no targets"));
        assert!(e("GET /a\nGET http://a:1/\nGET http://b:1/\n")
            .contains("t.txt:3: http://b:1 is another origin than line 2's"));
        assert!(e("Accept: x\n").contains("t.txt:1:"));
        assert!(e("GET /a\n\nAccept: x\n").contains("t.txt:3:"));
        assert!(e("GET items\n").contains("a request line"));
        assert!(e("G3T /a\n").contains("not an HTTP method"));
        assert!(e("ftp://x/a\n").contains("t.txt:1:"));
        assert!(e("{\"url\":\"/a\",\"bogus\":1}\n").contains("unknown field"));
        assert!(e("{\"method\":\"GET\"}\n").contains("no \"url\""));
        assert!(e("GET /a\n@x\n@y\n").contains("second body file"));
    }
}
