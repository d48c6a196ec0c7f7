//! A chart as data: axes and layers of precomputed points. Drawing only maps them to pixels
//! (`output::svg`), so every renderer shows the same picture of the same numbers.

use serde::Serialize;

/// What the x values are, and so how their ticks read.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum XAxis {
    Number,
    /// Days since 1970-01-01, labelled as dates.
    Day,
    /// Positions 0, 1, 2... labelled by these names (months of a plan).
    Labels(Vec<String>),
}

/// One thing drawn on a chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Layer {
    Line {
        label: String,
        points: Vec<(f64, f64)>,
    },
    Dots {
        label: String,
        points: Vec<(f64, f64)>,
    },
    /// A shaded band: (x, low, high).
    Band {
        label: String,
        points: Vec<(f64, f64, f64)>,
    },
    /// A horizontal reference line (an SLO, the current fleet).
    Level {
        label: String,
        y: f64,
    },
    /// A vertical marker (a peak, the start of a forecast).
    Marker {
        label: String,
        x: f64,
    },
}

/// A chart: axes and layers, drawn in order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chart {
    /// A short name, used for file names and HTML ids.
    pub id: String,
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x_axis: XAxis,
    /// A logarithmic y axis, for values that span decades (forecast bands).
    pub log_y: bool,
    pub layers: Vec<Layer>,
}
