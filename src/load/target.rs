//! Where the requests go: the target's URL, and which redirects stay on its origin.

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
    /// `scheme://host:port`, without the base path.
    pub fn origin(&self) -> String {
        format!("{}://{}", if self.tls { "https" } else { "http" }, self.authority)
    }

    /// The host without the brackets an IPv6 address has in a URL.
    pub fn bare_host(&self) -> &str {
        self.host.trim_start_matches('[').trim_end_matches(']')
    }

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

    /// The path to follow a redirect to, when `location` is on the target's own origin.
    pub fn same_origin<'a>(&self, location: &'a str) -> Option<&'a str> {
        if location.starts_with('/') && !location.starts_with("//") {
            return Some(location);
        }
        let scheme = if self.tls { "https://" } else { "http://" };
        let rest = location.strip_prefix(scheme)?;
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let default = if self.tls { 443 } else { 80 };
        let same = authority == self.authority
            || authority == self.host && self.port == default
            || authority == format!("{}:{}", self.host, self.port);
        same.then_some(if path.is_empty() { "/" } else { path })
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
