//! One router per resource, merged into the app.

pub mod assets;
pub mod auth;
pub mod comments;
pub mod files;
pub mod items;
pub mod oauth;
pub mod schema;
pub mod server;
pub mod system;
pub mod utils;
