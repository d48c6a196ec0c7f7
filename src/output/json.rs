//! JSON: the result struct itself, with `schema_version` first.

use std::io::{self, Write};

use serde::Serialize;

use super::SCHEMA_VERSION;

#[derive(Serialize)]
struct Versioned<'a, T: ?Sized> {
    schema_version: u32,
    #[serde(flatten)]
    body: &'a T,
}

/// Writes `value` as pretty JSON with a trailing newline.
pub fn write<T: Serialize + ?Sized>(value: &T, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &Versioned { schema_version: SCHEMA_VERSION, body: value })?;
    writeln!(out)
}
