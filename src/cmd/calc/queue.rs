//! `headroom calc queue`.

use std::io::Write;

use anyhow::Result;
use clap::Args;

use crate::error::InputError;
use crate::model::queue::{self, Latency, MMc};
use crate::output::Format;
use crate::present::calc::queue::*;
use crate::units::{sig, Percentile, Rate, Span};

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
    crate::cmd::emit(&answer, args.format, out, None)?;
    Ok(())
}
