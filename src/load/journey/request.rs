//! One journey step over goose: the request with the journey's values filled in, its status
//! checked and its values extracted, each failure classed and described.

use std::time::Duration;

use goose::prelude::*;

use super::driver::Failure;
use super::JourneyStep;
use crate::load::recorder::ErrorClass;

/// Sends one step with the journey's values filled in, checks its status and extracts the
/// values it names.
pub async fn send(
    user: &mut GooseUser,
    st: &JourneyStep,
    vars: &mut [Option<String>],
    timeout: Duration,
) -> Result<(), Failure> {
    let path = st.path.render(vars);
    let mut rb = user
        .get_request_builder(&st.method, &path)
        .map_err(|e| (ErrorClass::Io, format!("cannot build a request for {path}: {e}")))?;
    for (k, v) in &st.headers {
        rb = rb.header(k.as_str(), v.render(vars));
    }
    if let Some(b) = &st.body {
        rb = rb.body(b.render(vars));
    }
    let exchange = async {
        let response = user
            .request(GooseRequest::builder().set_request_builder(rb).build())
            .await
            .map_err(|e| (ErrorClass::Io, e.to_string()))?
            .response
            .map_err(|e| (class_of(&e), e.without_url().to_string()))?;
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> = st
            .extract
            .iter()
            .filter_map(|(_, _, how)| how.header())
            .filter_map(|h| Some((h.to_string(), response.headers().get(h)?.to_str().ok()?.to_string())))
            .collect();
        let body = response.bytes().await.map_err(|e| (class_of(&e), e.without_url().to_string()))?;
        Ok::<_, Failure>((status, headers, body))
    };
    let (status, headers, body) = tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| (ErrorClass::Timeout, format!("no response within {:?}", timeout)))??;
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
/// standard output carries headroom's results, so file descriptor 1 points at /dev/null while
/// an attack runs. headroom itself writes only progress (to standard error) meanwhile.
pub struct MuteStdout(Option<libc::c_int>);

impl MuteStdout {
    pub fn new() -> MuteStdout {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        // SAFETY: plain descriptor calls on descriptors this function owns or on fd 1, each
        // result checked; nothing else is touched.
        unsafe {
            let saved = libc::dup(1);
            let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY);
            if saved >= 0 && null >= 0 && libc::dup2(null, 1) >= 0 {
                libc::close(null);
                return MuteStdout(Some(saved));
            }
            for fd in [saved, null] {
                if fd >= 0 {
                    libc::close(fd);
                }
            }
        }
        MuteStdout(None)
    }
}

impl Drop for MuteStdout {
    fn drop(&mut self) {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        if let Some(saved) = self.0 {
            // SAFETY: `saved` is the duplicate of fd 1 made in `new`, closed only here.
            unsafe {
                libc::dup2(saved, 1);
                libc::close(saved);
            }
        }
    }
}
