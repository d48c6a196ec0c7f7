//! The file contracts: every JSON file headroom writes and reads back, one module a format.
//! Each is a set of plain types (`Serialize + Deserialize + JsonSchema`) written with its `kind`
//! and the `schema_version` first, through one atomic writer, and read back through one reader
//! that checks both and names the key path and line of anything wrong. Nothing else declares
//! their shape; `schemas/` holds the JSON Schema generated from these types.

pub mod fit;
pub mod forecast;
pub mod hlog;
pub mod plan;
pub mod results;
pub mod utilization;

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::InputError;

/// The version of every artefact's shape; a file of another version is refused, naming both.
/// 2: every file says its `kind`; results measure throughput over a window and judge delivery.
/// 3: forecasts give mean and peak bands from rolling-origin errors, null where unusable.
pub const SCHEMA_VERSION: u32 = 3;

/// Which contract a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// `results.json` of `headroom run`.
    Results,
    /// `headroom fit --format json`.
    Fit,
    /// `headroom forecast --format json`.
    Forecast,
    /// `headroom plan --format json`.
    Plan,
}

impl Kind {
    /// What a file of this kind is, for messages.
    pub fn described(self) -> &'static str {
        match self {
            Kind::Results => "a results.json from `headroom run`",
            Kind::Fit => "a fit from `headroom fit --format json`",
            Kind::Forecast => "a forecast from `headroom forecast --format json`",
            Kind::Plan => "a plan from `headroom plan --format json`",
        }
    }
}

/// A type that is one of the contracts.
pub trait Contract: Serialize + DeserializeOwned + JsonSchema {
    const KIND: Kind;
}

/// Any contract, as read from a file whose kind it says.
#[derive(Debug)]
pub enum Any {
    Results(Box<results::Results>),
    Fit(Box<fit::FitReport>),
    Forecast(Box<forecast::ForecastReport>),
    Plan(Box<plan::PlanReport>),
}

#[derive(Serialize)]
struct Envelope<'a, T> {
    schema_version: u32,
    kind: Kind,
    #[serde(flatten)]
    body: &'a T,
}

#[derive(Deserialize)]
struct Head {
    schema_version: Option<u32>,
    kind: Option<Kind>,
}

/// Writes `value` as pretty JSON, `schema_version` and `kind` first, with a trailing newline.
pub fn to_writer<T: Contract>(value: &T, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &Envelope { schema_version: SCHEMA_VERSION, kind: T::KIND, body: value })?;
    writeln!(out)
}

/// Writes `value` to `path` through a temporary file and a rename, so that a reader, a crash or
/// a signal never sees half a file; `-` writes standard output.
pub fn write<T: Contract>(value: &T, path: &Path) -> Result<()> {
    crate::files::write_atomic(path, |w| Ok(to_writer(value, w)?))
}

/// Reads a contract of type `T` from `path` (`-` for standard input).
pub fn read<T: Contract>(path: &Path) -> Result<T> {
    let file = crate::input::name(path);
    let text = crate::input::read_text(path, "the file")?;
    Ok(parse(&text, &file)?)
}

/// The kind a file's text says it holds, its version checked.
fn head(text: &str, file: &str, expected: &str) -> Result<Kind, InputError> {
    let bad = |message: String| InputError::BadFile { file: file.into(), message };
    let head: Head = serde_json::from_str(text).map_err(|e| bad(format!("not JSON ({e}): expected {expected}")))?;
    match head.schema_version {
        Some(SCHEMA_VERSION) => {}
        Some(v) => {
            return Err(bad(format!(
                "schema_version {v}, where this headroom reads {SCHEMA_VERSION}: write it again with the command that made it"
            )))
        }
        None => return Err(bad(format!("no schema_version: expected {expected}"))),
    }
    head.kind.ok_or_else(|| bad(format!("no kind: expected {expected}")))
}

/// Deserializes the body of a file of known kind, naming the key path and line of an error.
fn body<T: DeserializeOwned>(text: &str, file: &str, expected: &str) -> Result<T, InputError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| InputError::BadFile {
        file: file.into(),
        // The inner error ends with its line and column.
        message: format!("at {}: {}: expected {expected}", e.path(), e.inner()),
    })
}

/// Parses a contract of type `T` from text; `file` names it in errors.
pub fn parse<T: Contract>(text: &str, file: &str) -> Result<T, InputError> {
    let kind = head(text, file, T::KIND.described())?;
    if kind != T::KIND {
        return Err(InputError::BadFile {
            file: file.into(),
            message: format!("holds {}, where {} was expected", kind.described(), T::KIND.described()),
        });
    }
    body(text, file, T::KIND.described())
}

/// Reads any contract from `path` (`-` for standard input), by the kind it says.
pub fn read_any(path: &Path) -> Result<Any> {
    let file = crate::input::name(path);
    let text = crate::input::read_text(path, "the file")?;
    Ok(parse_any(&text, &file)?)
}

/// Parses any contract from text, by the kind it says.
pub fn parse_any(text: &str, file: &str) -> Result<Any, InputError> {
    let any = "a results.json, or the JSON of `headroom fit`, `forecast` or `plan`";
    Ok(match head(text, file, any)? {
        Kind::Results => Any::Results(Box::new(body(text, file, Kind::Results.described())?)),
        Kind::Fit => Any::Fit(Box::new(body(text, file, Kind::Fit.described())?)),
        Kind::Forecast => Any::Forecast(Box::new(body(text, file, Kind::Forecast.described())?)),
        Kind::Plan => Any::Plan(Box::new(body(text, file, Kind::Plan.described())?)),
    })
}

/// The JSON Schema of contract `T`, as committed under `schemas/`.
pub fn schema<T: Contract>() -> serde_json::Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(T)).unwrap_or_default();
    // The envelope's two keys, which every file carries beside its body.
    if let Some(props) = schema.get_mut("properties").and_then(|p| p.as_object_mut()) {
        props.insert("schema_version".into(), serde_json::json!({ "const": SCHEMA_VERSION }));
        props.insert("kind".into(), serde_json::json!({ "const": T::KIND }));
    }
    if let Some(req) = schema.get_mut("required").and_then(|r| r.as_array_mut()) {
        req.insert(0, "kind".into());
        req.insert(0, "schema_version".into());
    }
    schema
}

/// Writes `path`'s parent folder for a file of `what`, naming the path on failure.
pub fn ready(dir: &Path, what: &str) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create the folder {} for {what}", dir.display()))
}
