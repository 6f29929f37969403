//! Authentication primitives: accountability, password hashes, tokens, password reset.

pub mod accountability;
pub mod password;
pub mod password_reset;
pub mod service;
pub mod tokens;

pub use accountability::Accountability;
