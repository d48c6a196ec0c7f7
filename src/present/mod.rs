//! Presenters: the core's plain structs and the artefacts, as a [`Document`] of the view. Each
//! says what a reader sees, in what order and in which words; none computes a judgement (those
//! are in `analysis`) or a layout (those are in `output`).

pub mod calc;
pub mod compare;
pub mod fit;
pub mod forecast;
pub mod history;
pub mod plan;
pub mod review;
pub mod run;

use std::io::{self, Write};

use serde::Serialize;

use crate::view::Document;

/// An answer a command prints: as a document for the text formats, as itself for JSON.
pub trait Present: Serialize {
    /// What the text formats lay out.
    fn view(&self) -> Document;

    /// The one table CSV writes, with plain numbers, when not every table of the view.
    fn csv(&self) -> Option<crate::view::Table> {
        None
    }

    /// Its JSON, versioned; an artefact writes its own, its kind beside the version.
    fn write_json(&self, out: &mut dyn Write) -> io::Result<()> {
        versioned(self, out)
    }
}

#[derive(Serialize)]
struct Versioned<'a, T: ?Sized> {
    schema_version: u32,
    #[serde(flatten)]
    body: &'a T,
}

/// A value's fields as one `field,value` table of plain values (its JSON flattened: `a.b`,
/// `list[2].c`), for a CSV of an answer that is no list of rows.
pub fn fields<T: Serialize + ?Sized>(value: &T) -> crate::view::Table {
    fn walk(v: &serde_json::Value, at: String, t: &mut crate::view::Table) {
        use serde_json::Value as V;
        let join = |k: &str| if at.is_empty() { k.to_string() } else { format!("{at}.{k}") };
        match v {
            V::Object(m) => m.iter().for_each(|(k, v)| walk(v, join(k), t)),
            V::Array(a) => a.iter().enumerate().for_each(|(i, v)| walk(v, format!("{at}[{i}]"), t)),
            V::Null => t.rows.push(vec![at, String::new()]),
            V::String(s) => t.rows.push(vec![at, s.clone()]),
            other => t.rows.push(vec![at, other.to_string()]),
        }
    }
    let mut t = crate::view::Table::new("", &["field", "value"]);
    walk(&serde_json::to_value(value).unwrap_or_default(), String::new(), &mut t);
    t
}

/// Writes `value` as pretty JSON, `schema_version` first, with a trailing newline.
pub fn versioned<T: Serialize + ?Sized>(value: &T, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(
        &mut *out,
        &Versioned { schema_version: crate::artefact::SCHEMA_VERSION, body: value },
    )?;
    writeln!(out)
}
