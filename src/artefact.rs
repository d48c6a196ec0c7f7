//! Reading back the versioned JSON files that headroom's commands write.

use std::path::Path;

use anyhow::Result;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::error::InputError;
use crate::output::SCHEMA_VERSION;

#[derive(Deserialize)]
struct Version {
    schema_version: Option<u32>,
}

/// Reads a JSON artefact of `kind` (e.g. "a forecast from `headroom forecast --format json`")
/// from `path` (`-` for standard input), checking its schema version; every error names the
/// file, the key path and line where it went wrong, and what was expected.
pub fn read<T: DeserializeOwned>(path: &Path, kind: &str) -> Result<T> {
    let file = crate::input::name(path);
    let text = crate::input::read_text(path, "the file")?;
    Ok(parse(&text, &file, kind)?)
}

/// Parses artefact text (see [`read`]); `file` names it in errors.
pub fn parse<T: DeserializeOwned>(text: &str, file: &str, kind: &str) -> Result<T, InputError> {
    let bad = |message: String| InputError::BadFile { file: file.into(), message };
    let version: Version = serde_json::from_str(text).map_err(|e| bad(format!("not JSON ({e}): expected {kind}")))?;
    match version.schema_version {
        Some(SCHEMA_VERSION) => {}
        Some(v) => {
            return Err(bad(format!("schema_version {v} is not {SCHEMA_VERSION}: regenerate it with this headroom")))
        }
        None => return Err(bad(format!("no schema_version: expected {kind}"))),
    }
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        // The inner error ends with its line and column.
        bad(format!("at {}: {}: expected {kind}", e.path(), e.inner()))
    })
}
