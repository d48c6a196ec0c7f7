//! Renderers of the capacity review, one file per format. Each lays out a [`Review`] that
//! `report::build` computed; none computes anything of its own.

mod csv;
mod html;
mod json;
mod markdown;

use std::io::Write;
use std::path::Path;

use anyhow::Result;

use crate::report::Review;

/// The formats of `headroom report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ReviewFormat {
    /// One self-contained HTML file: inline SVG charts and CSS, no network access
    #[default]
    Html,
    /// Markdown, with the charts written as SVG files beside it (with -o)
    Md,
    /// The review as versioned JSON, chart data included
    Json,
    /// The per-month plan (or, without a plan, the load test's steps) with plain numbers
    Csv,
}

/// Lays a review out in one format.
pub trait ReviewWriter {
    /// Writes `review` to `out`. `dest` is the file `out` writes to, when there is one: a
    /// format whose charts live in files of their own writes them beside it.
    fn write(&self, review: &Review, out: &mut dyn Write, dest: Option<&Path>) -> Result<()>;
}

/// The writer of `format`.
pub fn writer(format: ReviewFormat) -> Box<dyn ReviewWriter> {
    match format {
        ReviewFormat::Html => Box::new(html::Html),
        ReviewFormat::Md => Box::new(markdown::Markdown),
        ReviewFormat::Json => Box::new(json::Json),
        ReviewFormat::Csv => Box::new(csv::Csv),
    }
}
