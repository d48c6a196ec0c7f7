//! The load generator: plans, profiles, the pacer and engine, recording, results and analysis.

pub mod collector;
pub mod departures;
pub mod engine;
pub mod gauge;
pub mod http;
pub mod journey;
pub mod limiter;
pub mod recorder;
pub mod resolve;
pub mod results;
pub mod runner;
pub mod series;
pub mod timeline;
