//! The load generator: the engines (request mix, journeys, virtual), their shared pacing core,
//! recording, and the run that writes results.

pub mod collector;
pub mod departures;
pub mod engine;
pub mod gauge;
pub mod h1;
pub mod h2;
pub mod http;
pub mod journey;
pub mod limiter;
pub mod merge;
pub mod mix;
pub mod recorder;
pub mod resolve;
pub mod results;
pub mod runner;
pub mod scripted;
pub mod series;
pub mod shard;
pub mod target;
pub mod timeline;
pub mod tls;
pub mod utilization;
