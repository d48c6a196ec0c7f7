//! What headroom reads besides its own artefacts: traffic histories (CSV), measured points for a
//! fit, and service models for a plan, each checked at the edge with errors that name the file,
//! line and fix.

pub mod history;
pub mod http;
pub mod metrics;
pub mod points;
pub mod service;
