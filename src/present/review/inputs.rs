//! The artefacts a review reads: the contracts themselves, under the names the review uses.

use std::path::Path;

use anyhow::Result;

pub use crate::artefact::fit::FitReport as Fit;
pub use crate::artefact::forecast::ForecastReport as Forecast;
pub use crate::artefact::plan::PlanReport as Plan;
pub use crate::artefact::results::{Delivery, Results as Run, StepResult as Step};
pub use crate::artefact::Any as Artefact;

/// Reads `path` (`-` for standard input; a folder for the results.json in it), whatever
/// contract it holds: its name and contents.
pub fn read(path: &Path) -> Result<(String, Artefact)> {
    let file = crate::artefact::results::file_in(path);
    Ok((crate::input::name(&file), crate::artefact::read_any(&file)?))
}
