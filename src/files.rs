//! Writing files so that no reader ever sees half of one.

use std::io::{self, Write};
use std::path::Path;

/// Whether a file argument is `-`, standard input or output.
pub fn is_stdout(path: &Path) -> bool {
    path.to_str() == Some("-")
}

/// Writes `path` through a temporary file beside it, synced and then renamed, so that a reader,
/// a crash or Ctrl-C never sees half a file; `-` writes standard output.
pub fn write_atomic(path: &Path, write: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>) -> anyhow::Result<()> {
    use anyhow::Context;
    // `-`: standard output.
    if is_stdout(path) {
        let mut out = io::BufWriter::new(io::stdout().lock());
        write(&mut out)?;
        return Ok(out.flush()?);
    }
    let name = path.file_name().map_or("out".into(), |n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    let file = std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let mut w = io::BufWriter::new(file);
    write(&mut w)?;
    w.flush().and_then(|_| w.get_ref().sync_all()).with_context(|| format!("cannot write {}", tmp.display()))?;
    drop(w);
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}
