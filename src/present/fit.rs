//! The `fit` report as a document: the coefficients with their intervals, the fit's quality,
//! the measured and fitted points, predictions and warnings.

use crate::artefact::fit::FitReport;
use crate::model::usl_fit::Estimate;
use crate::units::sig;

use crate::present::Present;
use crate::view::{Document, Table};

pub(crate) fn estimate_cells(e: &Estimate) -> [String; 2] {
    let ci = e.ci95.map_or("undetermined".to_string(), |[lo, hi]| format!("{} … {}", sig(lo, 4), sig(hi, 4)));
    [sig(e.value, 4), ci]
}

pub(crate) fn opt(v: Option<f64>, none: &str) -> String {
    v.map_or(none.to_string(), |v| sig(v, 4))
}

/// The coefficients of both fits, and how well each fits.
fn fit_tables(f: &FitReport) -> Vec<Table> {
    let u = &f.usl;
    let a = &f.amdahl;
    let est = |value, std_error, ci95| {
        estimate_cells(&Estimate { value, std_error, ci95, indistinguishable_from_zero: false })
    };
    let [ul, ul_ci] = est(u.lambda, u.lambda_se, u.lambda_ci);
    let [us, us_ci] = est(u.sigma, u.sigma_se, u.sigma_ci);
    let [uk, uk_ci] = est(u.kappa, u.kappa_se, u.kappa_ci);
    let [al, al_ci] = est(a.lambda, a.lambda_se, a.lambda_ci);
    let [as_, as_ci] = est(a.sigma, a.sigma_se, a.sigma_ci);
    let coefficients =
        Table::new("Coefficients (95% intervals, Student's t)", &["", "USL", "USL 95% CI", "Amdahl", "Amdahl 95% CI"])
            .row([String::from("λ (X at N=1, req/s)"), ul, ul_ci, al, al_ci])
            .row([String::from("σ (contention)"), us, us_ci, as_, as_ci])
            .row([String::from("κ (coherency)"), uk, uk_ci, "0 (fixed)".into(), "".into()]);
    let peak = match (u.peak_concurrency, u.peak_concurrency_whole) {
        (Some(n), Some(w)) => format!("N* = {} (best whole N = {w})", sig(n, 4)),
        _ => "none: κ = 0, throughput never falls".into(),
    };
    let summary = Table::new("Fit", &["", "USL", "Amdahl"])
        .row(["R²".into(), sig(u.r_squared, 4), sig(a.r_squared, 4)])
        .row(["residual std error (req/s)".into(), sig(u.residual_std_error, 4), sig(a.residual_std_error, 4)])
        .row(["degrees of freedom".into(), u.degrees_of_freedom.to_string(), a.degrees_of_freedom.to_string()])
        .row(["peak".into(), peak, "none".into()])
        .row(["max throughput (req/s)".into(), opt(u.peak_throughput, "—"), opt(a.ceiling_throughput, "unbounded")]);
    vec![coefficients, summary]
}

impl FitReport {
    /// The fit's figures, one a row, with plain numbers: `model,parameter,value,std_error,lo95,hi95`.
    fn figures(&self) -> Table {
        let (u, a) = (&self.usl, &self.amdahl);
        let num = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
        let mut t = Table::new("", &["model", "parameter", "value", "std_error", "lo95", "hi95"]);
        let mut row = |model: &str, name: &str, value: Option<f64>, se: Option<f64>, ci: Option<[f64; 2]>| {
            t.rows.push(vec![
                model.into(),
                name.into(),
                num(value),
                num(se),
                num(ci.map(|c| c[0])),
                num(ci.map(|c| c[1])),
            ]);
        };
        row("usl", "lambda", Some(u.lambda), u.lambda_se, u.lambda_ci);
        row("usl", "sigma", Some(u.sigma), u.sigma_se, u.sigma_ci);
        row("usl", "kappa", Some(u.kappa), u.kappa_se, u.kappa_ci);
        row("usl", "peak_concurrency", u.peak_concurrency, None, None);
        row("usl", "peak_throughput", u.peak_throughput, None, None);
        row("usl", "r_squared", Some(u.r_squared), None, None);
        row("usl", "residual_std_error", Some(u.residual_std_error), None, None);
        row("amdahl", "lambda", Some(a.lambda), a.lambda_se, a.lambda_ci);
        row("amdahl", "sigma", Some(a.sigma), a.sigma_se, a.sigma_ci);
        row("amdahl", "ceiling_throughput", a.ceiling_throughput, None, None);
        row("amdahl", "r_squared", Some(a.r_squared), None, None);
        row("amdahl", "residual_std_error", Some(a.residual_std_error), None, None);
        for p in &self.predictions {
            let at = format!("throughput_at_{}", p.concurrency);
            row("usl", &at, Some(p.usl_throughput), None, None);
            row("amdahl", &at, Some(p.amdahl_throughput), None, None);
        }
        if let Some(tg) = &self.target {
            let at = format!("concurrency_for_{}", tg.throughput);
            row("usl", &at, tg.usl_concurrency, None, None);
            row("amdahl", &at, tg.amdahl_concurrency, None, None);
        }
        t
    }
}

impl Present for FitReport {
    /// The figures with plain numbers, one header.
    fn csv(&self) -> Option<Table> {
        Some(self.figures())
    }

    fn write_json(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        crate::artefact::to_writer(self, out)
    }

    fn view(&self) -> Document {
        let u = &self.usl;
        let mut sections = fit_tables(self);
        if self.input.points.len() <= 30 {
            let mut s = Table::new("Measured and fitted", &["N", "X measured", "USL fitted", "residual"]);
            for (p, r) in self.input.points.iter().zip(&u.residuals) {
                s = s.row([sig(p.n, 6), sig(p.x, 6), sig(p.x - r, 6), sig(*r, 4)]);
            }
            sections.push(s);
        }
        if !self.predictions.is_empty() {
            let mut s = Table::new("Predictions", &["N", "USL X(N)", "Amdahl X(N)", ""]);
            for p in &self.predictions {
                s = s.row([
                    sig(p.concurrency, 6),
                    sig(p.usl_throughput, 5),
                    sig(p.amdahl_throughput, 5),
                    if p.extrapolated { "extrapolated".into() } else { String::new() },
                ]);
            }
            sections.push(s);
        }
        if let Some(t) = &self.target {
            sections.push(
                Table::new(&format!("Concurrency for {} req/s", sig(t.throughput, 6)), &["", "USL", "Amdahl"]).row([
                    "N needed".into(),
                    opt(t.usl_concurrency, "unreachable (past the peak)"),
                    opt(t.amdahl_concurrency, "unreachable (past the ceiling)"),
                ]),
            );
        }
        if let Some(last) = sections.last_mut() {
            last.notes.extend(self.warnings.iter().map(|w| format!("warning: {w}")));
        }
        let n_min = self.input.points.iter().map(|p| p.n).fold(f64::INFINITY, f64::min);
        let n_max = self.input.points.iter().map(|p| p.n).fold(0.0, f64::max);
        let title = format!(
            "Scalability fit of {} ({} points, N {}–{}): X(N) = λN / (1 + σ(N−1) + κN(N−1))",
            self.input.file,
            self.input.points.len(),
            sig(n_min, 6),
            sig(n_max, 6)
        );
        Document::tables(title, sections)
    }
}
