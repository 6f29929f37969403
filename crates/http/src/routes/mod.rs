//! One router per resource, merged into the app.

pub mod not_found;
pub mod server;
