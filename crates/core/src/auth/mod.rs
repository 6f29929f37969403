//! Authentication primitives.

pub mod password;
