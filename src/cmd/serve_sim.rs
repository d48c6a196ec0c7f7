//! `headroom serve-sim`: the simulated service, on loopback by default, for tests and the demo.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;

use crate::sim::{self, Distribution, SimConfig};
use crate::units::{Amount, Fraction, Span};

/// Arguments of `headroom serve-sim`.
#[derive(Debug, Args)]
#[command(
    after_help = "Every path answers 200 after the simulated work, except the session endpoints that journeys use:\n  \
POST /shop/login      sets the cookie session=s<n>.<check> and answers {\"user\": n}\n  \
GET  /shop/token      with that cookie: {\"token\": \"t<n>.<check>\"}; without: 401\n  \
GET  /shop/items      with Authorization: Bearer <token>: {\"items\": [{\"id\": ..}]}; else 401\n  \
POST /shop/checkout/<id> with the cookie and token of one user: {\"order\": ..}; else 401\n\n\
Example:\n  headroom serve-sim --workers 32 --service-time 20ms --sigma 0.05 --kappa 0.001 --duration 5m"
)]
pub struct ServeSimArgs {
    /// Address to listen on (port 0 picks a free one)
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Requests served at once; the rest queue
    #[arg(long, default_value_t = 64)]
    pub workers: usize,
    /// Mean service time of a request served alone
    #[arg(long, default_value = "5ms", value_name = "DURATION")]
    pub service_time: Span,
    /// Service time distribution
    #[arg(long, value_enum, default_value_t = Distribution::Exponential)]
    pub distribution: Distribution,
    /// σ: contention between requests in service
    #[arg(long, default_value = "0", value_name = "SIGMA")]
    pub sigma: Fraction,
    /// κ: coherency cost between requests in service
    #[arg(long, default_value = "0", value_name = "KAPPA")]
    pub kappa: Amount,
    /// Share of requests answered 500
    #[arg(long, default_value = "0%", value_name = "PERCENT")]
    pub error_rate: Fraction,
    /// Stall everything this often (e.g. 10s)
    #[arg(long, value_name = "DURATION", requires = "stall_for")]
    pub stall_every: Option<Span>,
    /// How long each stall lasts
    #[arg(long, default_value = "0s", value_name = "DURATION")]
    pub stall_for: Span,
    /// Stop by itself after this long
    #[arg(long, default_value = "10m", value_name = "DURATION")]
    pub duration: Span,
}

/// Runs the simulated service until `--duration` passes or Ctrl-C.
pub fn run(args: ServeSimArgs, out: &mut dyn Write) -> Result<()> {
    let cfg = SimConfig {
        workers: args.workers,
        service_time: args.service_time.0,
        distribution: args.distribution,
        sigma: args.sigma.0,
        kappa: args.kappa.0,
        error_rate: args.error_rate.0,
        stall_every: args.stall_every.map(|s| s.0).filter(|d| !d.is_zero()),
        stall_for: args.stall_for.0,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let handle = sim::spawn(args.addr, cfg).await.with_context(|| format!("cannot listen on {}", args.addr))?;
        writeln!(out, "headroom serve-sim listening on {} for {}", handle.url(), args.duration)?;
        out.flush()?;
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs_f64(args.duration.secs())) => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        writeln!(out, "served {} requests", handle.served())?;
        Ok::<(), anyhow::Error>(())
    })?;
    runtime.shutdown_background();
    Ok(())
}
