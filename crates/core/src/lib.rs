//! Rectus domain core: configuration, database, system tables, services and the event bus.
//! It knows nothing of JavaScript or HTTP; hooks and routes both call into it.

pub mod app_extensions;
pub mod auth;
pub mod cache;
pub mod cluster;
pub mod config;
pub mod db;
pub mod error;
pub mod events;
#[cfg(test)]
mod fuzz;
pub mod hook_routes;
pub mod mail;
pub mod query;
pub mod schema;
pub mod services;
pub mod storage;

pub use error::{ApiError, ErrorCode};

/// The Directus version whose API and hook contract Rectus follows.
pub const DIRECTUS_COMPAT_VERSION: &str = "9.0.0-rc.83";
