//! One journey step of a goose user: the request with the journey's values filled in, sent on
//! the user's own keep-alive connection with its own cookie jar (the same HTTP/1.1 client as the
//! request mix), its status checked and its values extracted, each failure classed and
//! described. goose runs the users and their scenarios; the requests do not go through its
//! reqwest client, whose work per request (URL parsing, header maps, a pool, a timer) cost
//! three times the request mix's CPU per request.

use std::sync::atomic::AtomicU64;

use bytes::Bytes;
use cookie_store::CookieStore;
use goose::prelude::GooseMethod;
use hyper::header::{HeaderName, HeaderValue, ACCEPT, COOKIE, USER_AGENT};
use hyper::Method;
use url::Url;

use super::JourneyStep;
use crate::load::h1::Sink;
use crate::load::http::{self, Http, Link};
use crate::load::recorder::ErrorClass;

/// How a step went wrong: the error class and what the target said.
pub(super) type Failure = (ErrorClass, String);

/// What a journey step is sent with and bounded by, and what its reasons must not quote.
pub struct Bounds<'a> {
    /// The target, its connections' TLS, the timeouts, `max_body` and whether redirects are
    /// followed.
    pub http: &'a Http,
    /// Values from the environment, redacted from every reason.
    pub secrets: &'a [String],
    /// The target's root URL, that cookies are matched against and paths joined to (`None`
    /// when the target's host makes no URL).
    pub root: Option<&'a Url>,
    /// The step's URL, when its path has no value from an earlier step: parsed once.
    pub url: Option<&'a Url>,
    /// Connections opened again.
    pub reconnects: &'a AtomicU64,
}

/// A goose user's HTTP: its keep-alive connection and its cookies.
pub struct UserClient {
    link: Link,
    jar: CookieStore,
}

impl UserClient {
    /// A user with no connection yet (opened by its first request) and no cookies.
    pub fn new() -> UserClient {
        UserClient { link: Link::new(None), jar: CookieStore::new() }
    }
}

/// How much of a body a step keeps when it extracts nothing from it: enough to quote.
const QUOTED: usize = 256;
/// Redirects a journey step follows at most, when the plan asks.
const MAX_REDIRECTS: usize = 10;
const AGENT: HeaderValue = HeaderValue::from_static(concat!("headroom/", env!("CARGO_PKG_VERSION")));

/// Sends one step with the journey's values filled in, checks its status and extracts the
/// values it names; the body bytes read come back whatever the outcome.
pub async fn send(
    client: &mut UserClient,
    st: &JourneyStep,
    vars: &mut [Option<String>],
    bounds: &Bounds<'_>,
) -> (Result<(), Failure>, u64) {
    let mut bytes = 0u64;
    let timeout = bounds.http.timeout;
    let outcome = match tokio::time::timeout(timeout, exchange(client, st, vars, bounds, &mut bytes)).await {
        Ok(outcome) => outcome,
        Err(_) => {
            client.link.abandon();
            Err((ErrorClass::Timeout, format!("no response within {timeout:?}")))
        }
    };
    (outcome.map_err(|(class, why)| (class, super::redact(&why, bounds.secrets))), bytes)
}

async fn exchange(
    client: &mut UserClient,
    st: &JourneyStep,
    vars: &mut [Option<String>],
    bounds: &Bounds<'_>,
    bytes: &mut u64,
) -> Result<(), Failure> {
    let root = bounds.root.ok_or((ErrorClass::Connect, "the target's host makes no URL".to_string()))?;
    let mut url = match bounds.url {
        Some(url) => url.clone(),
        None => {
            let path = st.path.render(vars);
            root.join(&path).map_err(|e| (ErrorClass::Io, format!("cannot build a request for {path}: {e}")))?
        }
    };
    // The step's headers, then what reqwest, goose's client, sends unasked: an agent and
    // `Accept: */*`.
    let mut headers = Vec::with_capacity(st.headers.len() + 3);
    for (k, v) in &st.headers {
        let value = v.render(vars);
        let bad = || (ErrorClass::Io, format!("headers.{k}: the value is not a valid header value"));
        let name = HeaderName::from_bytes(k.as_bytes()).map_err(|_| bad())?;
        headers.push((name, HeaderValue::from_str(&value).map_err(|_| bad())?));
    }
    headers.push((USER_AGENT, AGENT));
    headers.push((ACCEPT, HeaderValue::from_static("*/*")));
    let (mut method, mut body) = (method(&st.method), st.body.as_ref().map(|b| Bytes::from(b.render(vars))));
    // Set-Cookie always; the headers this step extracts from; the body kept whole only when a
    // value is taken from it, and never past max_body.
    let mut wanted: Vec<&str> = vec!["set-cookie"];
    wanted.extend(st.extract.iter().filter_map(|(_, _, how)| how.header()));
    let keep = if st.extract.iter().any(|(_, _, how)| how.header().is_none()) { usize::MAX } else { QUOTED };
    let http = bounds.http;
    let fixed = headers.len();
    for hop in 0.. {
        // This hop's cookies after the headers every hop sends.
        headers.truncate(fixed);
        let cookies: Vec<String> = client.jar.get_request_values(&url).map(|(n, v)| format!("{n}={v}")).collect();
        if !cookies.is_empty() {
            let jar = HeaderValue::from_str(&cookies.join("; "))
                .map_err(|_| (ErrorClass::Io, "a cookie the target set is not a valid header value".into()))?;
            headers.push((COOKIE, jar));
        }
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        let empty = Bytes::new();
        let request = http::Hop {
            method: &method,
            path: &path,
            headers: &headers,
            body: body.as_ref().unwrap_or(&empty),
            wire: None,
        };
        *bytes = 0;
        let mut sink = Sink { headers: &wanted, keep, ..Sink::discard(http.max_body, bytes) };
        let answer = http::exchange(http, &mut client.link, bounds.reconnects, &request, &mut sink).await;
        let kept = std::mem::take(&mut sink.kept);
        let (status, location) = answer.map_err(|class| match class {
            ErrorClass::BodyTooLarge => {
                let limit = crate::units::thousands(http.max_body as f64);
                (class, format!("the body passed max_body ({limit} bytes)"))
            }
            _ => (class, reason(class).to_string()),
        })?;
        for (_, cookie) in kept.headers.iter().filter(|(k, _)| k == "set-cookie") {
            // A cookie the store refuses (another domain, a bad attribute) is not kept, as a browser would not.
            let _ = client.jar.parse(cookie, &url);
        }
        match http::redirect(http, status, location.as_deref(), &method) {
            Some((to, as_get)) if hop < MAX_REDIRECTS => {
                if as_get {
                    (method, body) = (Method::GET, None);
                }
                url =
                    root.join(to).map_err(|e| (ErrorClass::Io, format!("cannot follow the redirect to {to}: {e}")))?;
            }
            _ => return judge(st, status, &kept, vars, bounds.secrets),
        }
    }
    unreachable!("the loop returns")
}

/// The step's verdict on its final response: the status it expects, then each value it extracts.
fn judge(
    st: &JourneyStep,
    status: u16,
    kept: &crate::load::h1::Kept,
    vars: &mut [Option<String>],
    secrets: &[String],
) -> Result<(), Failure> {
    if !http::expected(status, st.expect) {
        // Redacted before it is cut short, so that no secret survives in part.
        let body = super::redact(&String::from_utf8_lossy(&kept.body), secrets);
        return Err((ErrorClass::of_status(status), format!("{status}: {}", snippet(body.as_bytes()))));
    }
    for (slot, var, how) in &st.extract {
        let value = how
            .apply(&kept.headers, &kept.body)
            .map_err(|why| (ErrorClass::Extract, format!("extract.{var}: {why}")))?;
        vars[*slot] = Some(value);
    }
    Ok(())
}

fn method(m: &GooseMethod) -> Method {
    match m {
        GooseMethod::Delete => Method::DELETE,
        GooseMethod::Get => Method::GET,
        GooseMethod::Head => Method::HEAD,
        GooseMethod::Patch => Method::PATCH,
        GooseMethod::Post => Method::POST,
        GooseMethod::Put => Method::PUT,
    }
}

/// What a failure with no HTTP answer says.
fn reason(class: ErrorClass) -> &'static str {
    match class {
        ErrorClass::Connect => "no connection to the target",
        ErrorClass::Protocol => "the response was not HTTP (or its head passed 64 KiB)",
        _ => "the connection failed before a whole response came back",
    }
}

/// The start of a body, on one line, for a failure's reason.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > 80 {
        format!("{}…", line.chars().take(80).collect::<String>())
    } else {
        line
    }
}

/// goose 0.18 prints "N users hatched." to standard output whatever it is told (metrics.rs), and
/// standard output carries headroom's results, so it points at /dev/null while an attack runs
/// (headroom itself writes only progress, to standard error, meanwhile). `None` when standard
/// output cannot be redirected; goose's line then shows.
pub fn mute_stdout() -> Option<gag::Gag> {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    gag::Gag::stdout().ok()
}
