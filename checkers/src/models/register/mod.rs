//! The register: its ops, its model, and the polynomial decision for unique written values.

pub mod decide;
pub mod model;
pub mod op;

pub use model::CasRegister;
pub use op::RegisterOp;
