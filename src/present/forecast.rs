//! A forecast as a document: its months with their bands, the model and its backtest, the history
//! behind it and what was done about its data quality.

use super::history::{periods_section, quality_section};
use crate::artefact::forecast::{ForecastReport, HoldoutReport};
use crate::model::growth::Forecast;
use crate::present::Present;
use crate::units::readable as rps;
use crate::units::{human_duration, percent, sig, thousands};
use crate::view::{Document, Table};

pub(crate) fn band(lo: f64, hi: f64) -> String {
    format!("{} – {}", rps(lo), rps(hi))
}

/// The candidates, their backtest errors, and why the chosen one was chosen.
fn model_section(f: &Forecast) -> Table {
    let b = &f.backtest;
    let mut model = Table::new("Model", &["candidate", "peak MAPE", "mean MAPE", ""]);
    for c in &b.candidates {
        let chosen = if c.name == f.model.name { "chosen" } else { "" };
        model = model.row([
            c.name.clone(),
            format!("{}%", sig(c.peak_mape, 3)),
            format!("{}%", sig(c.mean_mape, 3)),
            chosen.into(),
        ]);
    }
    model.notes.push(format!(
        "rolling-origin backtest: {} origin(s), {}-day windows; 95% bands use Student's t with {} degree(s) of freedom",
        b.origins, b.window_days, b.interval_degrees_of_freedom
    ));
    model.notes.push(format!("chosen: {}, because {}", f.model.name, f.model.reason));
    model.notes.push(format!(
        "{}: mean trend grows {} per month; daily peak is typically {}× its base (spread {})",
        f.model.described,
        percent(f.model.monthly_growth, 3),
        sig(f.model.typical_peak_factor, 3),
        sig(f.model.peak_spread, 3)
    ));
    if let Some(w) = f.model.weekday_factors {
        let names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        let shape: Vec<String> = names.iter().zip(w).map(|(n, v)| format!("{n} {}", sig(v, 2))).collect();
        model.notes.push(format!("weekday factors: {}", shape.join(", ")));
    }
    if !f.down_weighted.is_empty() {
        let top: Vec<String> =
            f.down_weighted.iter().take(5).map(|d| format!("{} {} ×{}", d.date, d.series, sig(d.ratio, 3))).collect();
        model.notes.push(format!(
            "down-weighted by the robust fit ({} day-series): {}",
            f.down_weighted.len(),
            top.join(", ")
        ));
    }
    model
}

/// One row a forecast month.
fn periods_section_of(f: &Forecast) -> Table {
    let mut periods = Table::new("Forecast", &["month", "mean RPS", "peak RPS", "80% band", "95% band", "worst case"]);
    for p in &f.periods {
        periods = periods.row([
            p.month.to_string(),
            rps(p.mean_rps),
            rps(p.peak_rps),
            band(p.peak_rps_lo80, p.peak_rps_hi80),
            band(p.peak_rps_lo95, p.peak_rps_hi95),
            rps(p.peak_rps_worst),
        ]);
    }
    periods
}

/// The held-out months beside what the forecast said of them.
fn holdout_section(h: &HoldoutReport) -> Table {
    let mut s = Table::new(
        "Held-out months",
        &["month", "actual peak", "forecast peak", "95% band", "inside", "Holt-Winters peak"],
    );
    for m in &h.months {
        let inside = (m.forecast.peak_rps_lo95..=m.forecast.peak_rps_hi95).contains(&m.actual_peak_rps);
        s = s.row([
            m.month.to_string(),
            rps(m.actual_peak_rps),
            rps(m.forecast.peak_rps),
            band(m.forecast.peak_rps_lo95, m.forecast.peak_rps_hi95),
            if inside { "yes".into() } else { "no".into() },
            m.holt_winters_peak_rps.map_or("—".into(), rps),
        ]);
    }
    let mape = |v: Option<f64>| v.map_or("—".into(), |m| format!("{}%", sig(m, 3)));
    s.notes.push(format!(
        "peak MAPE: headroom {}, Holt-Winters {}; {} of {} inside the 95% band",
        mape(h.peak_mape),
        mape(h.holt_winters_peak_mape),
        h.inside_95,
        h.months.len()
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
            "{} rows every {} from {} to {}; forecasts start after {}",
            thousands(self.source.rows as f64),
            human_duration(self.source.interval_s),
            self.source.first,
            self.source.last,
            self.source.last_month
        ));
        let quality = quality_section(&self.quality, &self.treatments);
        let f = &self.forecast;
        let mut sections = vec![history, quality, model_section(f), periods_section_of(f)];
        sections.extend(self.holdout.as_ref().map(holdout_section));
        Document::tables(format!("Forecast of {}: {}", self.source.file, f.model.name), sections)
    }

    fn csv(&self) -> Option<Table> {
        let header = [
            "month",
            "mean_rps",
            "peak_rps",
            "peak_rps_lo80",
            "peak_rps_hi80",
            "peak_rps_lo95",
            "peak_rps_hi95",
            "peak_rps_worst",
        ];
        let mut s = Table::new("", &header);
        for p in &self.forecast.periods {
            let v = [
                p.mean_rps,
                p.peak_rps,
                p.peak_rps_lo80,
                p.peak_rps_hi80,
                p.peak_rps_lo95,
                p.peak_rps_hi95,
                p.peak_rps_worst,
            ];
            s = s.row(std::iter::once(p.month.to_string()).chain(v.iter().map(|x| format!("{x:.3}"))));
        }
        Some(s)
    }
}
