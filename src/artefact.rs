//! Reading back the versioned JSON files that headroom's commands write.

use std::path::Path;

use anyhow::{Context, Result};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::error::InputError;
use crate::output::SCHEMA_VERSION;

#[derive(Deserialize)]
struct Version {
    schema_version: Option<u32>,
}

/// Reads a JSON artefact of `kind` (e.g. "a forecast from `headroom forecast --format json`"),
/// checking its schema version; every error names the file and what was expected.
pub fn read<T: DeserializeOwned>(path: &Path, kind: &str) -> Result<T> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {file}"))?;
    let bad = |message: String| InputError::BadFile { file: file.clone(), message };
    let version: Version = serde_json::from_str(&text).map_err(|e| bad(format!("not JSON ({e}): expected {kind}")))?;
    match version.schema_version {
        Some(SCHEMA_VERSION) => {}
        Some(v) => {
            return Err(
                bad(format!("schema_version {v} is not {SCHEMA_VERSION}: regenerate it with this headroom")).into()
            )
        }
        None => return Err(bad(format!("no schema_version: expected {kind}")).into()),
    }
    Ok(serde_json::from_str(&text).map_err(|e| bad(format!("{e}: expected {kind}")))?)
}
