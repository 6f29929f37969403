//! One router per resource, merged into the app.

pub mod auth;
pub mod comments;
pub mod items;
pub mod schema;
pub mod server;
pub mod system;
pub mod utils;
