//! One journey step over goose: the request with the journey's values filled in, its status
//! checked and its values extracted, each failure classed and described.

use std::time::Duration;

use goose::prelude::*;

use super::JourneyStep;
use crate::load::recorder::ErrorClass;

/// How a step went wrong: the error class and what the target said.
pub(super) type Failure = (ErrorClass, String);

/// What bounds a journey step's response and what its reasons must not quote.
pub struct Bounds<'a> {
    pub timeout: Duration,
    /// Body bytes read at most: past it the step fails as `body_too_large`.
    pub max_body: u64,
    /// Values from the environment, redacted from every reason.
    pub secrets: &'a [String],
    /// The step's URL, when its path has no value from an earlier step: parsed once.
    pub url: Option<&'a reqwest::Url>,
}

/// How much of a body a step keeps when it extracts nothing from it: enough to quote.
const QUOTED: usize = 256;

/// Sends one step with the journey's values filled in, checks its status and extracts the
/// values it names; the body bytes read come back whatever the outcome.
pub async fn send(
    user: &mut GooseUser,
    st: &JourneyStep,
    vars: &mut [Option<String>],
    bounds: &Bounds<'_>,
) -> (Result<(), Failure>, u64) {
    let mut bytes = 0u64;
    let outcome = exchange(user, st, vars, bounds, &mut bytes).await;
    (outcome.map_err(|(class, why)| (class, super::redact(&why, bounds.secrets))), bytes)
}

async fn exchange(
    user: &mut GooseUser,
    st: &JourneyStep,
    vars: &mut [Option<String>],
    bounds: &Bounds<'_>,
    bytes: &mut u64,
) -> Result<(), Failure> {
    // The user's own client (its cookies and connections), given the URL parsed once, instead
    // of goose's request(), whose bookkeeping (the URL parsed three more times, every header
    // formatted into a log record, a metric built) is for goose's metrics, which headroom
    // turns off and keeps itself.
    let url = match bounds.url {
        Some(url) => url.clone(),
        None => {
            let path = st.path.render(vars);
            user.base_url
                .join(&path)
                .map_err(|e| (ErrorClass::Io, format!("cannot build a request for {path}: {e}")))?
        }
    };
    let mut rb = user.client.request(method(&st.method), url);
    for (k, v) in &st.headers {
        rb = rb.header(k.as_str(), v.render(vars));
    }
    if let Some(b) = &st.body {
        rb = rb.body(b.render(vars));
    }
    // The body is kept whole only when a value is taken from it, and never past max_body.
    let keep = if st.extract.iter().any(|(_, _, how)| how.header().is_none()) { usize::MAX } else { QUOTED };
    let exchange = async {
        let mut response = rb.send().await.map_err(|e| (class_of(&e), e.without_url().to_string()))?;
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> = st
            .extract
            .iter()
            .filter_map(|(_, _, how)| how.header())
            .filter_map(|h| Some((h.to_string(), response.headers().get(h)?.to_str().ok()?.to_string())))
            .collect();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| (class_of(&e), e.without_url().to_string()))? {
            *bytes += chunk.len() as u64;
            if *bytes > bounds.max_body {
                let limit = crate::units::thousands(bounds.max_body as f64);
                return Err((ErrorClass::BodyTooLarge, format!("{status}: the body passed max_body ({limit} bytes)")));
            }
            let room = keep.saturating_sub(body.len()).min(chunk.len());
            body.extend_from_slice(&chunk[..room]);
        }
        Ok::<_, Failure>((status, headers, body))
    };
    let (status, headers, body) = tokio::time::timeout(bounds.timeout, exchange)
        .await
        .map_err(|_| (ErrorClass::Timeout, format!("no response within {:?}", bounds.timeout)))??;
    let ok = match st.expect {
        Some(e) => status == e,
        None => (200..300).contains(&status),
    };
    if !ok {
        return Err((ErrorClass::of_status(status), format!("{status}: {}", snippet(&body))));
    }
    for (slot, var, how) in &st.extract {
        let value = how.apply(&headers, &body).map_err(|why| (ErrorClass::Extract, format!("extract.{var}: {why}")))?;
        vars[*slot] = Some(value);
    }
    Ok(())
}

fn method(m: &GooseMethod) -> reqwest::Method {
    match m {
        GooseMethod::Delete => reqwest::Method::DELETE,
        GooseMethod::Get => reqwest::Method::GET,
        GooseMethod::Head => reqwest::Method::HEAD,
        GooseMethod::Patch => reqwest::Method::PATCH,
        GooseMethod::Post => reqwest::Method::POST,
        GooseMethod::Put => reqwest::Method::PUT,
    }
}

fn class_of(e: &reqwest::Error) -> ErrorClass {
    if e.is_timeout() {
        ErrorClass::Timeout
    } else if e.is_connect() {
        ErrorClass::Connect
    } else {
        ErrorClass::Io
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
