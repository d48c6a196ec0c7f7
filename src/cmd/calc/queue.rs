//! `headroom calc queue`.

use std::io::Write;

use anyhow::Result;
use clap::Args;
use serde::Serialize;

use crate::error::InputError;
use crate::model::queue::{self, Latency, MMc};
use crate::output::{self, Doc, Format, Render, Section};
use crate::units::{human_duration, percent, sig, Percentile, Rate, Span};

/// Arguments of `calc queue`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  headroom calc queue --rate 700 --service-time 10ms --servers 8 --percentile p99 --bound 50ms"
)]
pub struct QueueArgs {
    /// λ: arrivals per second
    #[arg(long, allow_hyphen_values = true, value_name = "RATE")]
    pub rate: Rate,
    /// S: mean service time of one request (e.g. 10ms)
    #[arg(long, allow_hyphen_values = true, value_name = "DURATION")]
    pub service_time: Span,
    /// c: servers (workers or instances)
    #[arg(long, value_name = "C", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub servers: u32,
    /// The latency percentile to report
    #[arg(long, default_value = "p99")]
    pub percentile: Percentile,
    /// Find the arrival rate at which the percentile crosses this bound (e.g. 50ms)
    #[arg(long, allow_hyphen_values = true, value_name = "DURATION")]
    pub bound: Option<Span>,
    /// Whether the percentile is of the response time or of the wait alone
    #[arg(long, value_enum, default_value_t = Latency::Response)]
    pub of: Latency,
    /// Output format
    #[arg(long, short, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Serialize)]
struct Step {
    utilization: f64,
    arrival_rps: f64,
    wait_probability: f64,
    percentile_s: f64,
}

#[derive(Debug, Serialize)]
struct Answer {
    worksheet: &'static str,
    formula: &'static str,
    queue: MMc,
    of: Latency,
    percentile: f64,
    utilization: f64,
    wait_probability: f64,
    mean_wait_s: f64,
    mean_response_s: f64,
    percentile_s: f64,
    cliff: Vec<Step>,
    bound_s: Option<f64>,
    max_arrival_rps: Option<f64>,
    max_utilization: Option<f64>,
}

const CLIFF: [f64; 8] = [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99];

pub fn run(args: QueueArgs, out: &mut dyn Write) -> Result<()> {
    let (s, c, q) = (args.service_time.secs(), args.servers, args.percentile.quantile());
    if s <= 0.0 {
        return Err(InputError::Usage("--service-time must be above zero".into()).into());
    }
    let m = MMc { arrival_rps: args.rate.0, service_s: s, servers: c };
    let unstable = || {
        InputError::Usage(format!(
            "the queue is unstable: utilization λS/c = {} ≥ 100%; lower --rate below {} req/s or add --servers",
            sig(m.utilization() * 100.0, 4) + "%",
            sig(c as f64 / s, 5)
        ))
    };
    let cliff = CLIFF
        .iter()
        .filter_map(|&rho| {
            let at = MMc { arrival_rps: rho * c as f64 / s, ..m };
            Some(Step {
                utilization: rho,
                arrival_rps: at.arrival_rps,
                wait_probability: at.wait_probability()?,
                percentile_s: at.percentile_s(args.of, q)?,
            })
        })
        .collect();
    let bound_s = args.bound.map(|b| b.secs());
    let max_arrival_rps = bound_s.and_then(|b| queue::max_arrival_rps(s, c, args.of, q, b));
    let answer = Answer {
        worksheet: "queue",
        formula: "M/M/c, Erlang C: P(wait) = C(c, λS), Wq = C / (c/S − λ)",
        queue: m,
        of: args.of,
        percentile: q,
        utilization: m.utilization(),
        wait_probability: m.wait_probability().ok_or_else(unstable)?,
        mean_wait_s: m.mean_wait_s().ok_or_else(unstable)?,
        mean_response_s: m.mean_response_s().ok_or_else(unstable)?,
        percentile_s: m.percentile_s(args.of, q).ok_or_else(unstable)?,
        cliff,
        bound_s,
        max_arrival_rps,
        max_utilization: max_arrival_rps.map(|r| r * s / c as f64),
    };
    output::emit(&answer, args.format, out)?;
    Ok(())
}

impl Render for Answer {
    fn doc(&self) -> Doc {
        let p = Percentile(self.percentile).to_string();
        let of = match self.of {
            Latency::Wait => "wait",
            Latency::Response => "response",
        };
        let m = &self.queue;
        let mut facts = Section::new("", &["", "value", "formula"])
            .row([
                "λ, S, c".into(),
                format!("{} req/s, {}, {}", sig(m.arrival_rps, 5), human_duration(m.service_s), m.servers),
                "given".into(),
            ])
            .row(["utilization ρ".into(), percent(self.utilization, 4), "λS / c".into()])
            .row(["P(wait)".into(), percent(self.wait_probability, 4), "Erlang C".into()])
            .row(["mean wait".into(), human_duration(self.mean_wait_s), "C / (c/S − λ)".into()])
            .row(["mean response".into(), human_duration(self.mean_response_s), "Wq + S".into()])
            .row([
                format!("{p} {of}"),
                human_duration(self.percentile_s),
                "from the M/M/c latency distribution".into(),
            ]);
        if let Some(b) = self.bound_s {
            let v = match (self.max_arrival_rps, self.max_utilization) {
                (Some(r), Some(u)) => format!("{} req/s ({}% utilization)", sig(r, 5), sig(u * 100.0, 3)),
                _ => "none: even an idle queue misses it".into(),
            };
            facts = facts.row([format!("max λ with {p} {of} ≤ {}", human_duration(b)), v, "bisection on λ".into()]);
        }
        let mut cliff = Section::new(
            &format!("The cliff: {p} {of} as utilization rises"),
            &["utilization", "λ req/s", "P(wait)", &format!("{p} {of}")],
        );
        for st in &self.cliff {
            cliff = cliff.row([
                percent(st.utilization, 3),
                sig(st.arrival_rps, 5),
                percent(st.wait_probability, 3),
                human_duration(st.percentile_s),
            ]);
        }
        Doc { title: "M/M/c queue (Erlang C)".into(), sections: vec![facts, cliff] }
    }
}
