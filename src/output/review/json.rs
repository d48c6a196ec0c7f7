//! JSON: the review itself, versioned, chart data included, for scripts and other renderers.

use std::io::Write;
use std::path::Path;

use anyhow::Result;

use super::ReviewWriter;
use crate::report::Review;

pub struct Json;

impl ReviewWriter for Json {
    fn write(&self, review: &Review, out: &mut dyn Write, _: Option<&Path>) -> Result<()> {
        crate::output::write_json(review, out)?;
        Ok(())
    }
}
