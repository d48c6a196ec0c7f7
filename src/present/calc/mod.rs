//! The worksheets of `headroom calc`, each answer with its inputs, formula and result.

pub mod amdahl;
pub mod budget;
pub mod littles;
pub mod queue;
pub mod usl;
