//! Authentication primitives: accountability, password hashes, tokens.

pub mod accountability;
pub mod password;
pub mod service;
pub mod tokens;

pub use accountability::Accountability;
