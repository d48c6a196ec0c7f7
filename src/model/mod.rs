//! Capacity models: pure functions, no I/O. Each public item states its formula and units.

pub mod amdahl;
pub mod budget;
pub mod capacity;
pub mod growth;
pub mod littles;
mod nls;
pub mod queue;
pub mod usl;
pub mod usl_fit;
