//! A forecast as a document: its months with their bands, the model and its backtest against the
//! baselines, the history behind it and what was done about its data quality.

use super::history::{periods_section, quality_section};
use crate::artefact::forecast::{ForecastReport, HoldoutReport};
use crate::model::growth::bands::{Coverage, Source};
use crate::model::growth::{Forecast, PeriodForecast, Scores, UNUSABLE};
use crate::present::Present;
use crate::units::readable as rps;
use crate::units::{percent, sig, thousands};
use crate::view::{Document, Table};

/// `lo – hi`, or a dash.
pub(crate) fn band(lo: Option<f64>, hi: Option<f64>) -> String {
    match lo.zip(hi) {
        Some((lo, hi)) => format!("{} – {}", rps(lo), rps(hi)),
        None => "—".into(),
    }
}

fn opt(v: Option<f64>) -> String {
    v.map_or("—".into(), rps)
}

/// A MAPE in percent, or a dash.
pub(crate) fn mape(v: Option<f64>) -> String {
    v.map_or("—".into(), |m| format!("{}%", sig(m, 3)))
}

/// `72% of 340 (80% band), 93% (95%)`.
pub(crate) fn coverage(c: &Coverage) -> String {
    match (c.share_80(), c.share_95()) {
        (Some(a), Some(b)) => {
            format!("{} of {} inside the 80% band, {} inside the 95% band", percent(a, 2), c.checked, percent(b, 2))
        }
        _ => "not measured: too few backtest origins".into(),
    }
}

/// The members, the backtest beside the baselines, and how well the bands covered.
fn model_section(f: &Forecast) -> Table {
    let b = &f.backtest;
    // A mean-only forecast has no peak columns; with them, the baselines go by their initials
    // so that the table fits 80 columns.
    let peaks = f.model.peak_to_mean.is_some() || b.ahead_1_to_6.peak_mape.is_some();
    let header: &[&str] = if peaks {
        &["months ahead", "scored", "mean MAPE", "HW", "SN", "peak MAPE", "HW", "SN", "inside 80% band"]
    } else {
        &["months ahead", "scored", "mean MAPE", "Holt-Winters", "seasonal naive", "inside 80% band"]
    };
    let mut t = Table::new("Backtest (rolling origins)", header);
    let row = |label: String, s: &Scores| {
        let mut cells = vec![
            label,
            s.forecasts.to_string(),
            mape(s.mean_mape),
            mape(s.holt_winters_mean_mape),
            mape(s.seasonal_naive_mean_mape),
        ];
        if peaks {
            cells.extend([mape(s.peak_mape), mape(s.holt_winters_peak_mape), mape(s.seasonal_naive_peak_mape)]);
        }
        cells.push(s.judged_coverage().share_80().map_or("—".into(), |c| percent(c, 2)));
        cells
    };
    t = t.row(row("1–6 (pooled)".into(), &b.ahead_1_to_6));
    if let Some(s) = &b.ahead_7_to_12 {
        t = t.row(row("7–12 (pooled)".into(), s));
    }
    for h in b.horizons.iter().take(6) {
        t = t.row(row(h.h.to_string(), &h.scores));
    }
    if peaks {
        t.notes.push("HW: Holt-Winters (multiplicative), SN: seasonal naive; the band is the peak's".into());
    }
    t.notes.push(format!(
        "model: {}; {} origin(s){}",
        f.model.name,
        b.origins,
        b.first_origin.map_or(String::new(), |m| format!(", the first {m}"))
    ));
    let members: Vec<String> =
        f.model.members.iter().map(|m| format!("{} {}", m.method.name(), opt(m.first_month_mean_rps))).collect();
    t.notes.push(format!("first month's mean by member: {}", members.join(", ")));
    if let Some(g) = f.model.growth_per_month {
        t.notes.push(format!("the next 12 months' mean grows {} per month over the last 12", percent(g, 3)));
    }
    let top = b.horizons.last().map_or(0, |h| h.h);
    t.notes.push(format!(
        "band coverage, out of sample (each forecast against the band from the errors known at its origin), 1–{top} months ahead: mean {}",
        coverage(&b.mean_coverage)
    ));
    if let Some(c) = &b.peak_coverage {
        t.notes.push(format!("peak {}", coverage(c)));
    }
    let clipped: Vec<String> = f
        .model
        .adjusted
        .iter()
        .filter(|a| a.action == "clipped")
        .take(5)
        .map(|a| format!("{} ×{}", a.period, a.ratio.map_or("?".into(), |r| sig(r, 3))))
        .collect();
    let filled = f.model.adjusted.iter().filter(|a| a.action == "filled").count();
    if !clipped.is_empty() || filled > 0 {
        t.notes.push(format!(
            "before fitting: {filled} period(s) without a usable reading filled (never scored); {} spike(s) clipped{}",
            f.model.adjusted.len() - filled,
            if clipped.is_empty() { String::new() } else { format!(": {}", clipped.join(", ")) }
        ));
    }
    t
}

fn source_note(p: &PeriodForecast) -> String {
    match p.band {
        Source::Empirical { errors, scale } => format!("backtest errors ({errors}) ×{}", sig(scale, 2)),
        Source::Widened { from_h, errors, scale } => {
            format!("widened from {from_h} month(s) ahead ({errors}) ×{}", sig(scale, 2))
        }
        Source::Model => "model".into(),
    }
}

/// What a history scaled from counts to requests says of itself.
pub(crate) fn scaled(requests_per_count: f64) -> String {
    format!(
        "RPS are the history's counts × {} requests each (--requests-per-count: the planner's figure, not measured)",
        thousands(requests_per_count)
    )
}

/// One row a forecast month.
pub(crate) fn periods_section_of(f: &Forecast, peak_means: &str, requests_per_count: Option<f64>) -> Table {
    let peaks = f.periods.iter().any(|p| p.peak_rps.is_some());
    let header: &[&str] = if peaks {
        &["month", "mean RPS", "peak RPS", "peak 80% band", "peak 95% band", "worst case", "band from"]
    } else {
        &["month", "mean RPS", "mean 80% band", "mean 95% band", "band from"]
    };
    let mut t = Table::new("Forecast", header);
    for p in &f.periods {
        let pair = |lo80, hi80, lo95, hi95| {
            if p.band_usable {
                (band(lo80, hi80), band(lo95, hi95))
            } else {
                (UNUSABLE.into(), "—".into())
            }
        };
        let row = if peaks {
            let (b80, b95) = pair(p.peak_rps_lo80, p.peak_rps_hi80, p.peak_rps_lo95, p.peak_rps_hi95);
            vec![p.month.to_string(), rps(p.mean_rps), opt(p.peak_rps), b80, b95, opt(p.peak_rps_worst), source_note(p)]
        } else {
            let (b80, b95) = pair(p.mean_rps_lo80, p.mean_rps_hi80, p.mean_rps_lo95, p.mean_rps_hi95);
            vec![p.month.to_string(), rps(p.mean_rps), b80, b95, source_note(p)]
        };
        t = t.row(row);
    }
    t.notes.push(peak_means.to_string());
    if let Some(n) = requests_per_count {
        t.notes.push(scaled(n));
    }
    if let Some(r) = f.model.peak_to_mean {
        t.notes.push(format!("peak-to-mean ratio applied: {}", sig(r, 3)));
    }
    t
}

/// The held-out months beside what the forecast and the baselines said of them.
fn holdout_section(h: &HoldoutReport) -> Table {
    let mut s = Table::new(
        "Held-out months",
        &[
            "month",
            "actual mean",
            "forecast",
            "Holt-Winters",
            "seasonal naive",
            "actual peak",
            "forecast",
            "inside 80%",
        ],
    );
    for m in &h.months {
        let inside = m.inside_80.map_or("—".into(), |i| if i { "yes".into() } else { "no".into() });
        s = s.row([
            m.month.to_string(),
            rps(m.actual_mean_rps),
            rps(m.mean_rps),
            opt(m.holt_winters_mean_rps),
            opt(m.seasonal_naive_mean_rps),
            opt(m.actual_peak_rps),
            opt(m.peak_rps),
            inside,
        ]);
    }
    let sc = &h.scores;
    s.notes.push(format!(
        "mean MAPE: headroom {}, Holt-Winters {}, seasonal naive {}; peak MAPE: headroom {}, Holt-Winters {}, seasonal naive {}",
        mape(sc.mean_mape),
        mape(sc.holt_winters_mean_mape),
        mape(sc.seasonal_naive_mean_mape),
        mape(sc.peak_mape),
        mape(sc.holt_winters_peak_mape),
        mape(sc.seasonal_naive_peak_mape)
    ));
    s.notes.push(format!(
        "{} of {} judged month(s) inside the 80% band known before them, {} inside the 95% band",
        h.inside_80, h.judged, h.inside_95
    ));
    s
}

impl Present for ForecastReport {
    fn write_json(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        crate::artefact::to_writer(self, out)
    }

    fn view(&self) -> Document {
        let mut history = periods_section("History", &self.history, self.source.interval_s);
        history.notes.push(format!(
            "{} {} rows from {} to {}; forecasts start after {}",
            thousands(self.source.rows as f64),
            self.source.interval,
            self.source.first,
            self.source.last,
            self.source.last_month
        ));
        let quality = quality_section(&self.quality, &self.treatments);
        let f = &self.forecast;
        let mut sections = vec![
            history,
            quality,
            model_section(f),
            periods_section_of(f, &self.peak_means, self.source.requests_per_count),
        ];
        sections.extend(self.holdout.as_ref().map(holdout_section));
        Document::tables(format!("Forecast of {}", self.source.file), sections)
    }

    fn csv(&self) -> Option<Table> {
        let header = [
            "month",
            "mean_rps",
            "mean_rps_lo80",
            "mean_rps_hi80",
            "mean_rps_lo95",
            "mean_rps_hi95",
            "peak_rps",
            "peak_rps_lo80",
            "peak_rps_hi80",
            "peak_rps_lo95",
            "peak_rps_hi95",
            "peak_rps_worst",
            "band_usable",
        ];
        let mut s = Table::new("", &header);
        let cell = |x: Option<f64>| x.map_or(String::new(), |x| format!("{x:.3}"));
        for p in &self.forecast.periods {
            let v = [
                Some(p.mean_rps),
                p.mean_rps_lo80,
                p.mean_rps_hi80,
                p.mean_rps_lo95,
                p.mean_rps_hi95,
                p.peak_rps,
                p.peak_rps_lo80,
                p.peak_rps_hi80,
                p.peak_rps_lo95,
                p.peak_rps_hi95,
                p.peak_rps_worst,
            ];
            let cells = std::iter::once(p.month.to_string())
                .chain(v.into_iter().map(cell))
                .chain(std::iter::once(p.band_usable.to_string()));
            s = s.row(cells);
        }
        Some(s)
    }
}
