//! The Prometheus text exposition format (what a `/metrics` endpoint answers), read for one
//! selector: the sum of the series it matches, and the type the endpoint declares for it.

use crate::artefact::utilization::Reading;
use crate::plan::utilization::Selector;

/// What one read of the text format found for a selector: the sum of its series and the type
/// the endpoint declared.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The matching series' values added up.
    pub sum: f64,
    pub series: usize,
    pub reading: Option<Reading>,
}

/// The labels of a sample line's `{...}`, unescaped enough for matching.
fn labels(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(eq) = rest.find('=') {
        let name = rest[..eq].trim().trim_start_matches(',').trim().to_string();
        let after = &rest[eq + 1..];
        let Some(open) = after.find('"') else { break };
        let mut value = String::new();
        let mut chars = after[open + 1..].char_indices();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, n)) = chars.next() {
                        value.push(if n == 'n' { '\n' } else { n });
                    }
                }
                '"' => {
                    end = Some(open + 1 + i + 1);
                    break;
                }
                c => value.push(c),
            }
        }
        out.push((name, value));
        let Some(end) = end else { break };
        rest = &after[end..];
    }
    out
}

/// Finds `sel` in a Prometheus text exposition: its series summed, and its declared type.
pub fn find(text: &str, sel: &Selector) -> Found {
    let mut found = Found { sum: 0.0, series: 0, reading: None };
    for line in text.lines() {
        let line = line.trim();
        if let Some(t) = line.strip_prefix("# TYPE ") {
            let mut w = t.split_whitespace();
            if w.next() == Some(sel.name.as_str()) {
                found.reading = match w.next() {
                    Some("counter") => Some(Reading::Counter),
                    Some("gauge") => Some(Reading::Gauge),
                    _ => None,
                };
            }
            continue;
        }
        if line.is_empty() || line.starts_with('#') || !line.starts_with(sel.name.as_str()) {
            continue;
        }
        let rest = &line[sel.name.len()..];
        let (series_labels, value_part) = match rest.chars().next() {
            Some('{') => match rest.rfind('}') {
                Some(close) => (labels(&rest[1..close]), &rest[close + 1..]),
                None => continue,
            },
            Some(c) if c.is_whitespace() => (Vec::new(), rest),
            _ => continue, // a longer name that starts with this one
        };
        let matches = sel.labels.iter().all(|(l, eq, v)| {
            let have = series_labels.iter().find(|(n, _)| n == l).map_or("", |(_, x)| x.as_str());
            (have == v) == *eq
        });
        if !matches {
            continue;
        }
        if let Some(v) = value_part.split_whitespace().next().and_then(|v| v.parse::<f64>().ok()) {
            if v.is_finite() {
                found.sum += v;
                found.series += 1;
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.\n\
# TYPE node_cpu_seconds_total counter\n\
node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 100.5\n\
node_cpu_seconds_total{cpu=\"0\",mode=\"user\"} 20\n\
node_cpu_seconds_total{cpu=\"1\",mode=\"user\"} 30 1700000000000\n\
node_cpu_seconds_total{cpu=\"1\",mode=\"system\"} 5\n\
node_cpu_seconds_total_extra 999\n\
# TYPE workers gauge\n\
workers 8\n";

    fn sel(s: &str) -> Selector {
        s.parse().unwrap()
    }

    #[test]
    fn series_are_matched_by_labels_and_summed() {
        let busy = find(TEXT, &sel("node_cpu_seconds_total{mode!=\"idle\"}"));
        assert_eq!((busy.sum, busy.series, busy.reading), (55.0, 3, Some(Reading::Counter)));
        let user0 = find(TEXT, &sel("node_cpu_seconds_total{mode=\"user\",cpu=\"0\"}"));
        assert_eq!((user0.sum, user0.series), (20.0, 1));
        let all = find(TEXT, &sel("node_cpu_seconds_total"));
        assert_eq!(all.sum, 155.5, "a longer name that begins with it is another metric");
        assert_eq!(find(TEXT, &sel("workers")).reading, Some(Reading::Gauge));
        assert_eq!(find(TEXT, &sel("absent")).series, 0);
    }

    #[test]
    fn label_values_may_hold_escapes_commas_and_braces() {
        let text = "m{path=\"/a,b}\",q=\"say \\\"hi\\\"\"} 2\nm{path=\"/c\"} 3\n";
        assert_eq!(find(text, &sel("m{path=\"/c\"}")).sum, 3.0);
        assert_eq!(find(text, &sel("m{q=\"say \\\"hi\\\"\"}")).series, 0, "a selector's value is taken as written");
        assert_eq!(find(text, &sel("m")).sum, 5.0);
    }
}
