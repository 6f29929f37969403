//! Authentication primitives: accountability, password hashes, tokens, password reset, SSO.

pub mod accountability;
pub mod oauth;
pub mod password;
pub mod password_reset;
pub mod service;
pub mod tokens;

pub use accountability::Accountability;
