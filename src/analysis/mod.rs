//! What a run's numbers mean, as pure functions over the artefacts and plain figures: SLO
//! thresholds, whether a step delivered its load, Little's Law, the stress breaking point and the
//! capacity a run showed, spike recovery and soak drift, and a run against a baseline.

pub mod compare;
pub mod delivery;
pub mod littles;
pub mod reconcile;
pub mod slo;
pub mod soak;
pub mod spike;
pub mod stress;
pub mod utilization;
