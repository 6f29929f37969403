//! Authentication primitives: accountability, password hashes, tokens, password reset, invites.

pub mod accountability;
pub mod invites;
pub mod password;
pub mod password_reset;
pub mod service;
pub mod tokens;

pub use accountability::Accountability;
