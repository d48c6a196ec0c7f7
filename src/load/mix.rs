//! The request-mix engine: weighted requests over hyper, HTTP/1.1 with one keep-alive connection
//! per worker or HTTP/2 with workers sharing connections, paced by the shared core in
//! [`super::engine`].

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use super::engine::{self, Engine, Pacing, Running, StepRun, Unreachable, Wire};
use super::http::{send, Http, Link, Prepared, Target};
use super::recorder::Exchanged;
use crate::artefact::results::Second;
use crate::plan::profile::Step;

/// The engine for one run of a request mix.
pub struct RequestMix {
    pub http: Arc<Http>,
    pub pacing: Arc<Pacing>,
}

impl RequestMix {
    /// An engine for `requests` (weights become a smooth rotation).
    pub fn new(target: Target, requests: Vec<Prepared>, timeout: Duration, max_in_flight: usize) -> Self {
        let pacing = Pacing::new(&requests.iter().map(|r| r.weight).collect::<Vec<_>>(), timeout, max_in_flight);
        RequestMix { http: Arc::new(Http::new(target, requests, timeout)), pacing: Arc::new(pacing) }
    }
}

impl Wire for Http {
    type Link = Link;

    async fn open(&self) -> Link {
        Link::open(self).await
    }

    async fn send(&self, link: &mut Link, index: usize, reconnects: &AtomicU64, deadline: Instant) -> Exchanged {
        send(self, link, index, reconnects, deadline).await
    }
}

impl Engine for RequestMix {
    fn protocol(&self) -> Option<String> {
        self.http.protocol()
    }

    fn probe(&self) -> Running<'_, Result<(), Unreachable>> {
        Box::pin(async move {
            // A target that resets connections is reachable and misbehaving: that is measured
            // and classified; refusal, timeouts and unreachable hosts end the run here.
            filter_reset(self.http.probe().await).map_err(|e| Unreachable::Connect(e.to_string()))?;
            match self.http.probe_tls().await {
                Some(e) => Err(Unreachable::Tls(e)),
                None => Ok(()),
            }
        })
    }

    fn run_phase<'a>(
        &'a self,
        steps: &'a [Step],
        start: Option<Instant>,
        stop: watch::Receiver<bool>,
        tick: &'a mut dyn FnMut(usize, &Second),
    ) -> Running<'a, Result<Vec<StepRun>, String>> {
        Box::pin(async move { Ok(engine::run_phase(&self.http, &self.pacing, steps, start, stop, tick).await) })
    }
}

/// A reset or abort on connect is an answer of sorts: the target is there.
fn filter_reset(probed: std::io::Result<()>) -> std::io::Result<()> {
    match probed {
        Err(e) if matches!(e.kind(), std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted) => {
            Ok(())
        }
        other => other,
    }
}
