//! SVG charts drawn with plotters. Charts take precomputed series and only draw them.

use std::path::Path;

use anyhow::{anyhow, Context, Result};
use plotters::prelude::*;

/// A named line on a chart.
#[derive(Debug, Clone)]
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// Measured points, fitted curves and an optional marked peak.
#[derive(Debug, Clone)]
pub struct ScalabilityChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub measured: Vec<(f64, f64)>,
    pub curves: Vec<Series>,
    pub peak: Option<(f64, f64)>,
}

const PALETTE: [RGBColor; 3] = [RGBColor(214, 39, 40), RGBColor(31, 119, 180), RGBColor(44, 160, 44)];

/// Draws `chart` as an SVG file at `path`.
pub fn write_scalability_svg(chart: &ScalabilityChart, path: &Path) -> Result<()> {
    draw(chart, path)
        .map_err(|e| anyhow!("{e}"))
        .with_context(|| format!("cannot draw the chart to {}", path.display()))
}

fn draw(chart: &ScalabilityChart, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let all = chart.measured.iter().chain(chart.curves.iter().flat_map(|s| s.points.iter()));
    let (x_max, y_max) = all.fold((1.0f64, 1.0f64), |(x, y), p| (x.max(p.0), y.max(p.1)));
    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut c = ChartBuilder::on(&root)
        .caption(&chart.title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..x_max * 1.05, 0.0..y_max * 1.1)?;
    c.configure_mesh().x_desc(&chart.x_label).y_desc(&chart.y_label).light_line_style(WHITE.mix(0.0)).draw()?;
    for (i, s) in chart.curves.iter().enumerate() {
        let color = PALETTE[(i + 1) % PALETTE.len()];
        c.draw_series(LineSeries::new(s.points.iter().copied(), color.stroke_width(2)))?
            .label(s.label.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
    }
    let dot = PALETTE[0];
    c.draw_series(chart.measured.iter().map(|&p| Circle::new(p, 4, dot.filled())))?
        .label("measured")
        .legend(move |(x, y)| Circle::new((x + 9, y), 4, dot.filled()));
    if let Some((n, x)) = chart.peak {
        c.draw_series(std::iter::once(PathElement::new(vec![(n, 0.0), (n, x)], BLACK.mix(0.5).stroke_width(1))))?
            .label(format!("N* = {n:.1}"))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLACK.mix(0.5)));
    }
    c.configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.3))
        .draw()?;
    root.present()?;
    Ok(())
}
