//! SVG charts drawn with plotters from a [`Chart`] of the view: a `fit --plot` file, and the
//! charts of HTML and Markdown documents.

use std::ops::Range;
use std::path::Path;

use anyhow::{anyhow, Context, Result};
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::calendar::civil_from_days;
use crate::view::chart::{Chart, Layer, XAxis};

const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
];
const SIZE: (u32, u32) = (1040, 480);
/// Pixels a legend character takes, roughly, in plotters' 12 px sans-serif.
const LEGEND_CHAR_PX: u32 = 7;

/// The chart as an SVG document.
pub fn svg(chart: &Chart) -> Result<String> {
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, SIZE).into_drawing_area();
        draw(chart, &root)
            .map_err(|e| anyhow!("{e}"))
            .with_context(|| format!("cannot draw the chart '{}'", chart.id))?;
    }
    Ok(text)
}

/// Writes the chart as an SVG file at `path`.
pub fn write_svg(chart: &Chart, path: &Path) -> Result<()> {
    std::fs::write(path, svg(chart)?).with_context(|| format!("cannot write the chart to {}", path.display()))
}

type DrawResult = Result<(), Box<dyn std::error::Error>>;

fn values(chart: &Chart) -> (Vec<f64>, Vec<f64>) {
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for layer in &chart.layers {
        match layer {
            Layer::Line { points, .. } | Layer::Dots { points, .. } => {
                xs.extend(points.iter().map(|p| p.0));
                ys.extend(points.iter().map(|p| p.1));
            }
            Layer::Band { points, .. } => {
                xs.extend(points.iter().map(|p| p.0));
                ys.extend(points.iter().flat_map(|p| [p.1, p.2]));
            }
            Layer::Level { y, .. } => ys.push(*y),
            Layer::Marker { x, .. } => xs.push(*x),
        }
    }
    let finite = |v: Vec<f64>| v.into_iter().filter(|v| v.is_finite()).collect::<Vec<_>>();
    (finite(xs), finite(ys))
}

fn draw(chart: &Chart, root: &DrawingArea<SVGBackend, Shift>) -> DrawResult {
    root.fill(&WHITE)?;
    let (xs, ys) = values(chart);
    let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = |v: &[f64]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (mut x0, mut x1) = if xs.is_empty() { (0.0, 1.0) } else { (min(&xs), max(&xs)) };
    if let XAxis::Labels(names) = &chart.x_axis {
        (x0, x1) = (-0.5, names.len().max(1) as f64 - 0.5);
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    let pad = if matches!(chart.x_axis, XAxis::Labels(_)) { 0.0 } else { (x1 - x0) * 0.02 };
    let x = (x0 - pad)..(x1 + pad);
    if chart.log_y {
        let positive: Vec<f64> = ys.iter().copied().filter(|v| *v > 0.0).collect();
        // From decade to decade, so that the axis is labelled at both ends, above and below the data.
        let (lo, hi) = if positive.is_empty() {
            (1.0, 10.0)
        } else {
            let (lo, hi) = (min(&positive), max(&positive));
            let hi = 10f64.powf((hi * 1.05).log10().ceil());
            (10f64.powf((lo / 1.05).log10().floor()).min(hi / 10.0), hi)
        };
        plot(chart, root, x, (lo..hi).log_scale())
    } else {
        let hi = if ys.is_empty() { 1.0 } else { max(&ys).max(0.0) * 1.1 };
        plot(chart, root, x, 0.0..if hi > 0.0 { hi } else { 1.0 })
    }
}

fn plot<Y>(chart: &Chart, root: &DrawingArea<SVGBackend, Shift>, x: Range<f64>, y: Y) -> DrawResult
where
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    // The legend stands to the right of the plot, where it covers no line or point.
    let longest = chart.layers.iter().map(|l| label(l).chars().count() as u32).max().unwrap_or(0);
    let legend_w = if longest == 0 { 0 } else { longest * LEGEND_CHAR_PX + 48 };
    let mut c = ChartBuilder::on(root)
        .caption(&chart.title, ("sans-serif", 20))
        .margin(14)
        .margin_right(14 + legend_w)
        .x_label_area_size(44)
        .y_label_area_size(72)
        .build_cartesian_2d(x, y)?;
    let x_ticks = |v: &f64| x_tick(&chart.x_axis, *v);
    let x_count = match &chart.x_axis {
        XAxis::Labels(names) => names.len().clamp(1, 12),
        _ => 8,
    };
    c.configure_mesh()
        .x_desc(&chart.x_label)
        .y_desc(&chart.y_label)
        .x_labels(x_count)
        .x_label_formatter(&x_ticks)
        .y_label_formatter(&|v: &f64| crate::units::sig(*v, 3))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    layers(&mut c, chart)?;
    let (xs, ys) = c.plotting_area().get_pixel_range();
    legend(root, chart, (xs.end + 12, ys.start))?;
    root.present()?;
    Ok(())
}

/// The legend, drawn on the whole canvas at `at` (to the right of the plot): plotters' own
/// series labels are confined to the plotting area, where they cover the data.
fn legend(root: &DrawingArea<SVGBackend, Shift>, chart: &Chart, at: (i32, i32)) -> DrawResult {
    let font = ("sans-serif", 12).into_font().color(&BLACK);
    for (i, layer) in chart.layers.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let (x, y) = (at.0, at.1 + 8 + 18 * i as i32);
        match layer {
            Layer::Line { .. } | Layer::Level { .. } => {
                root.draw(&PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)))?
            }
            Layer::Dots { .. } => root.draw(&Circle::new((x + 9, y), 3, color.filled()))?,
            Layer::Band { .. } => {
                root.draw(&Rectangle::new([(x, y - 5), (x + 18, y + 5)], color.mix(0.18).filled()))?
            }
            Layer::Marker { .. } => {
                root.draw(&PathElement::new(vec![(x, y), (x + 18, y)], BLACK.mix(0.55).stroke_width(1)))?
            }
        }
        root.draw(&Text::new(label(layer).to_string(), (x + 24, y - 6), font.clone()))?;
    }
    Ok(())
}

fn label(layer: &Layer) -> &str {
    match layer {
        Layer::Line { label, .. }
        | Layer::Dots { label, .. }
        | Layer::Band { label, .. }
        | Layer::Level { label, .. }
        | Layer::Marker { label, .. } => label,
    }
}

/// Each layer of `chart`, in its colour.
fn layers<'a, Y>(c: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<RangedCoordf64, Y>>, chart: &Chart) -> DrawResult
where
    Y: Ranged<ValueType = f64>,
{
    let (x_lo, x_hi) = (c.x_range().start, c.x_range().end);
    let y_range = c.y_range();
    for (i, layer) in chart.layers.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        match layer {
            Layer::Line { points, .. } => {
                c.draw_series(LineSeries::new(points.iter().copied(), color.stroke_width(2)))?;
            }
            Layer::Dots { points, .. } => {
                c.draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
            }
            Layer::Band { points, .. } => {
                let outline: Vec<(f64, f64)> =
                    points.iter().map(|p| (p.0, p.2)).chain(points.iter().rev().map(|p| (p.0, p.1))).collect();
                c.draw_series(std::iter::once(Polygon::new(outline, color.mix(0.18).filled())))?;
            }
            Layer::Level { y, .. } => {
                let style = color.stroke_width(2);
                c.draw_series(DashedLineSeries::new([(x_lo, *y), (x_hi, *y)], 8, 5, style))?;
            }
            Layer::Marker { x, .. } => {
                let style = BLACK.mix(0.55).stroke_width(1);
                let (y0, y1) = (y_range.start, y_range.end);
                c.draw_series(DashedLineSeries::new([(*x, y0), (*x, y1)], 4, 4, style))?;
            }
        }
    }
    Ok(())
}

/// The label of the x axis at `v`: a number, a date, or the name of the category there.
fn x_tick(axis: &XAxis, v: f64) -> String {
    match axis {
        XAxis::Number => crate::units::sig(v, 4),
        XAxis::Day => {
            let (y, m, d) = civil_from_days(v.round() as i64);
            format!("{y}-{m:02}-{d:02}")
        }
        XAxis::Labels(names) => {
            let i = v.round();
            if (v - i).abs() < 1e-6 && i >= 0.0 {
                names.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        }
    }
}
