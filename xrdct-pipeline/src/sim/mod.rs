//! Simulation (feature `sim`): realistic Pilatus 2M CdTe frames ([`frames`]) and ellipse
//! phantoms with exact projections ([`phantom`]), for tests, benchmarks and the demo.

pub mod frames;
pub mod phantom;
