//! Reading what the user gives as text: a file, or standard input for `-`. Text that is not
//! UTF-8 is refused naming the byte, its offset, line and column, and the fix.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result};

use crate::error::InputError;

/// How `path` is named in messages: `<stdin>` for `-`.
pub fn name(path: &Path) -> String {
    match path.to_str() {
        Some("-") => "<stdin>".into(),
        _ => path.display().to_string(),
    }
}

/// Reads `path` (`-` for standard input) as UTF-8 text; `what` says what it was meant to be
/// in the error when it cannot be read ("the load plan").
pub fn read_text(path: &Path, what: &str) -> Result<String> {
    let file = name(path);
    let mut bytes = Vec::new();
    if file == "<stdin>" {
        std::io::stdin().lock().read_to_end(&mut bytes).context("cannot read standard input")?;
    } else {
        bytes = std::fs::read(path).with_context(|| format!("cannot read {what} {file}"))?;
    }
    Ok(utf8(bytes, &file)?)
}

/// `bytes` as text, or an error at the first byte that is not UTF-8.
pub fn utf8(bytes: Vec<u8>, file: &str) -> Result<String, InputError> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let before = &bytes[..at];
        let line = before.iter().filter(|b| **b == b'\n').count() + 1;
        let column = at - before.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1) + 1;
        InputError::BadFile {
            file: file.into(),
            message: format!(
                "not UTF-8 text: byte 0x{:02x} at offset {at} (line {line}, column {column}); save the file as UTF-8",
                bytes[at]
            ),
        }
    })
}

/// The line of dotted `key` (`profile.rate`, `requests[0].path`, `slo[1]`) in TOML `text`.
pub fn toml_line(text: &str, key: &str) -> Option<usize> {
    let doc = toml_edit::ImDocument::parse(text).ok()?;
    let mut table: &dyn toml_edit::TableLike = doc.as_table();
    let mut at = None;
    for segment in key.split('.') {
        let (name, index) = match segment.split_once('[') {
            Some((n, i)) => (n, Some(i.trim_end_matches(']').parse::<usize>().ok()?)),
            None => (segment, None),
        };
        let (k, item) = table.get_key_value(name)?;
        at = k.span().or(item.span()).or(at);
        let item = match (index, item.as_array_of_tables(), item.as_array()) {
            (Some(i), Some(tables), _) => {
                let t = tables.get(i)?;
                at = t.span().or(at);
                table = t;
                continue;
            }
            (Some(i), None, Some(values)) => {
                at = values.get(i)?.span().or(at);
                break;
            }
            (Some(_), None, None) => return None,
            (None, _, _) => item,
        };
        match item.as_table_like() {
            Some(t) => table = t,
            None => break,
        }
    }
    at.map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1)
}

/// The key a message about a plan or model starts with: `profile.rate: …`, or a journey step's
/// `journeys[0] "buy": step 2 "list": path: …`, as a dotted path.
fn key_of(message: &str) -> Option<String> {
    let key = |s: &str| -> Option<(String, usize)> {
        let n = s.find(|c: char| !(c.is_ascii_alphanumeric() || "_.[]-".contains(c))).unwrap_or(s.len());
        (n > 0 && (s[n..].starts_with(':') || s[n..].starts_with(" ("))).then(|| (s[..n].to_string(), n))
    };
    if let Some(rest) = message.strip_prefix("journeys[") {
        let (j, rest) = rest.split_once(']')?;
        let rest = &rest[rest.find(": ")? + 2..];
        let Some(step) = rest.strip_prefix("step ") else {
            return key(rest).map(|(k, _)| format!("journeys[{j}].{k}"));
        };
        let (n, rest) = step.split_once(' ')?;
        let n = n.parse::<usize>().ok()?.checked_sub(1)?;
        let rest = &rest[rest.find(": ")? + 2..];
        return key(rest).map(|(k, _)| format!("journeys[{j}].steps[{n}].{k}"));
    }
    key(message).map(|(k, _)| k)
}

/// `err`, when it is about a key of the TOML file `file` (whose text is `text`), with the line
/// of that key: `plan.toml:12: profile.rate: …`.
pub fn with_line(err: anyhow::Error, file: &str, text: &str) -> anyhow::Error {
    match err.downcast_ref::<InputError>() {
        Some(InputError::BadFile { file: f, message }) if f == file => {
            match key_of(message).and_then(|k| toml_line(text, &k)) {
                Some(line) => {
                    InputError::BadRow { file: f.clone(), line: line as u64, message: message.clone() }.into()
                }
                None => err,
            }
        }
        _ => err,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_bytes_are_named_by_offset_line_and_column() {
        let e = utf8(b"a,b\n1,\xff2\n".to_vec(), "h.csv").unwrap_err().to_string();
        assert_eq!(e, "h.csv: not UTF-8 text: byte 0xff at offset 6 (line 2, column 3); save the file as UTF-8");
        assert_eq!(utf8("é".as_bytes().to_vec(), "x").unwrap(), "é");
    }

    #[test]
    fn keys_are_found_on_their_lines() {
        let text = "slo = [\"a\",\n  \"b\"]\n[[requests]]\nname = \"x\"\npath = \"/\"\n[[requests]]\nname = \"y\"\n\
                    path = \"/y\"\n[profile]\nkind = \"load\"\nrate = \"-1\"\n[[journeys]]\nname = \"j\"\n\
                    [[journeys.steps]]\nname = \"s\"\n[[journeys.steps]]\nname = \"t\"\npath = \"/t\"\n";
        assert_eq!(toml_line(text, "profile.rate"), Some(11));
        assert_eq!(toml_line(text, "requests[1].path"), Some(8));
        assert_eq!(toml_line(text, "slo[1]"), Some(2));
        assert_eq!(toml_line(text, "journeys[0].steps[1].path"), Some(18));
        assert_eq!(toml_line(text, "profile.nope"), None);
        assert_eq!(key_of("profile.rate: a rate cannot be negative").as_deref(), Some("profile.rate"));
        assert_eq!(
            key_of("safety.max_in_flight (--max-in-flight): must be at least 1").as_deref(),
            Some("safety.max_in_flight")
        );
        assert_eq!(
            key_of("journeys[0] \"j\": step 2 \"t\": path: ${x} is neither…").as_deref(),
            Some("journeys[0].steps[1].path")
        );
        assert_eq!(key_of("no [[requests]] and no [[journeys]]: add one"), None);
    }
}
