//! The simulated service's stateful endpoints, for journey tests: a login that sets a session
//! cookie, an endpoint that returns a JSON token to a logged-in user, a listing that needs the
//! token, and a checkout that needs both, for the same user. Everything else is served as before.
//!
//! Sessions are stateless: user n's cookie is `s<n>.<check>` and its token `t<n>.<check>`, with
//! check digits from a keyed hash, so a forged, mixed-up or missing value is refused (401) with
//! a body that says what was missing, and memory does not grow with the number of logins.

use std::sync::atomic::{AtomicU64, Ordering};

use hyper::header::{AUTHORIZATION, COOKIE};
use hyper::{HeaderMap, Method, StatusCode};

/// What a request to a session endpoint gets.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Not a session endpoint: served as any other path.
    Plain,
    /// Served (after the simulated work) with this body and optional cookie.
    Ok { body: String, set_cookie: Option<String> },
    /// Refused at once.
    Refused { status: StatusCode, body: String },
}

/// Issues user numbers and checks credentials.
pub struct Sessions {
    next: AtomicU64,
    key: u64,
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Sessions {
    pub fn new(key: u64) -> Self {
        Sessions { next: AtomicU64::new(1), key }
    }

    fn check(&self, kind: u64, n: u64) -> u64 {
        mix(self.key ^ mix(n.wrapping_add(kind))) % 1_000_000
    }

    fn make(&self, prefix: char, kind: u64, n: u64) -> String {
        format!("{prefix}{n}.{}", self.check(kind, n))
    }

    /// The user number of a `s<n>.<check>` or `t<n>.<check>` value, when its check is right.
    fn open(&self, value: &str, prefix: char, kind: u64) -> Option<u64> {
        let (n, check) = value.strip_prefix(prefix)?.split_once('.')?;
        let n: u64 = n.parse().ok()?;
        (check.parse::<u64>().ok()? == self.check(kind, n)).then_some(n)
    }

    fn session(&self, headers: &HeaderMap) -> Option<u64> {
        let cookies = headers.get_all(COOKIE).iter().filter_map(|v| v.to_str().ok());
        let value = cookies.flat_map(|c| c.split(';')).find_map(|c| c.trim().strip_prefix("session="))?;
        self.open(value, 's', 1)
    }

    fn token(&self, headers: &HeaderMap) -> Option<u64> {
        let value = headers.get(AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ")?;
        self.open(value.trim(), 't', 2)
    }

    /// What `method path` with `headers` gets.
    pub fn route(&self, method: &Method, path: &str, headers: &HeaderMap) -> Outcome {
        let refuse = |why: &str| Outcome::Refused {
            status: StatusCode::UNAUTHORIZED,
            body: format!("{{\"error\":\"{why}\"}}\n"),
        };
        match (method, path) {
            (&Method::POST, "/shop/login") => {
                let n = self.next.fetch_add(1, Ordering::Relaxed);
                Outcome::Ok {
                    body: format!("{{\"user\":{n}}}\n"),
                    set_cookie: Some(format!("session={}; Path=/; HttpOnly", self.make('s', 1, n))),
                }
            }
            (&Method::GET, "/shop/token") => match self.session(headers) {
                Some(n) => {
                    Outcome::Ok { body: format!("{{\"token\":\"{}\"}}\n", self.make('t', 2, n)), set_cookie: None }
                }
                None => refuse("no valid session cookie: POST /shop/login first"),
            },
            (&Method::GET, "/shop/items") => match self.token(headers) {
                Some(n) => {
                    let items: Vec<String> =
                        (0..3).map(|i| format!("{{\"id\":{}}}", 100 + (n * 7 + i) % 900)).collect();
                    Outcome::Ok { body: format!("{{\"items\":[{}]}}\n", items.join(",")), set_cookie: None }
                }
                None => refuse("no valid bearer token: GET /shop/token first"),
            },
            (&Method::POST, p) if p.starts_with("/shop/checkout/") => {
                let item = p["/shop/checkout/".len()..].parse::<u64>().ok();
                match (self.session(headers), self.token(headers), item) {
                    (None, _, _) => refuse("no valid session cookie: POST /shop/login first"),
                    (Some(_), None, _) => refuse("no valid bearer token: GET /shop/token first"),
                    (Some(s), Some(t), _) if s != t => refuse("the token belongs to another session"),
                    (_, _, None) => Outcome::Refused {
                        status: StatusCode::NOT_FOUND,
                        body: "{\"error\":\"no such item: POST /shop/checkout/<id> with an id from /shop/items\"}\n"
                            .into(),
                    },
                    (Some(n), Some(_), Some(id)) => {
                        Outcome::Ok { body: format!("{{\"order\":\"o{n}-{id}\",\"item\":{id}}}\n"), set_cookie: None }
                    }
                }
            }
            _ => Outcome::Plain,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn headers(pairs: &[(hyper::header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(k.clone(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn body(o: Outcome) -> String {
        match o {
            Outcome::Ok { body, .. } => body,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_journey_needs_each_value_from_the_step_before() {
        let s = Sessions::new(42);
        let none = HeaderMap::new();
        let Outcome::Ok { set_cookie: Some(cookie), .. } = s.route(&Method::POST, "/shop/login", &none) else {
            panic!()
        };
        let cookie = cookie.split(';').next().unwrap().to_string();
        assert!(matches!(
            s.route(&Method::GET, "/shop/token", &none),
            Outcome::Refused { status: StatusCode::UNAUTHORIZED, .. }
        ));
        let token_json = body(s.route(&Method::GET, "/shop/token", &headers(&[(COOKIE, &cookie)])));
        let token = token_json.split('"').nth(3).unwrap().to_string();
        let bearer = format!("Bearer {token}");
        assert!(matches!(s.route(&Method::GET, "/shop/items", &none), Outcome::Refused { .. }));
        let items = body(s.route(&Method::GET, "/shop/items", &headers(&[(AUTHORIZATION, &bearer)])));
        let id: u64 = items.split("\"id\":").nth(1).unwrap().split('}').next().unwrap().parse().unwrap();
        let both = headers(&[(COOKIE, &cookie), (AUTHORIZATION, &bearer)]);
        let order = body(s.route(&Method::POST, &format!("/shop/checkout/{id}"), &both));
        assert!(order.contains(&format!("\"item\":{id}")), "{order}");
        // A cookie alone, a forged token, or another user's token is refused.
        assert!(matches!(
            s.route(&Method::POST, "/shop/checkout/1", &headers(&[(COOKIE, &cookie)])),
            Outcome::Refused { .. }
        ));
        let forged = headers(&[(COOKIE, &cookie), (AUTHORIZATION, "Bearer t1.123")]);
        assert!(matches!(s.route(&Method::POST, "/shop/checkout/1", &forged), Outcome::Refused { .. }));
        let Outcome::Ok { set_cookie: Some(other), .. } = s.route(&Method::POST, "/shop/login", &none) else {
            panic!()
        };
        let other = other.split(';').next().unwrap().to_string();
        let mixed = headers(&[(COOKIE, &other), (AUTHORIZATION, &bearer)]);
        assert!(matches!(s.route(&Method::POST, "/shop/checkout/1", &mixed), Outcome::Refused { .. }));
        assert_eq!(s.route(&Method::GET, "/", &none), Outcome::Plain);
    }
}
