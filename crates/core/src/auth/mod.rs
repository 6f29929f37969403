//! Authentication primitives: accountability, password hashes, tokens, password reset, invites,
//! two-factor codes, SSO.

pub mod accountability;
pub mod invites;
pub mod oauth;
pub mod password;
pub mod password_reset;
pub mod service;
pub mod tfa;
pub mod tokens;

pub use accountability::Accountability;
