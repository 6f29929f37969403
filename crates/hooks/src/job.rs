//! What the Rust side hands an isolate to run, and what comes back: the protocol between the
//! hook runtime (`lib.rs`, `pool.rs`) and the JS dispatcher (`js-runtime/40_hooks.js`).

use rectus_core::ApiError;
use serde::Serialize;
use serde_json::Value;

/// A job's value, or what a hook threw as `normalizeError` (`20_exceptions.js`) shaped it.
pub type JobResult = Result<Value, ApiError>;

/// A unit of work for the JS side.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobSpec {
    pub id: u64,
    pub kind: JobKind,
    pub event: String,
    pub ids: Vec<u32>,
    pub args: Vec<Value>,
    /// The first argument is an input a before-event may replace (not just a context).
    pub has_input: bool,
    pub payload_is_input: bool,
    /// Version of the schema the context's `schema` refers to (the JS side caches it by version).
    pub schema_version: u64,
    /// Hook → service → hook nesting of this job; services created by its handlers go one deeper.
    pub depth: u32,
    /// Handle of the transaction the context's `database` is bound to (see `database.rs`).
    pub transaction: Option<u32>,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    /// Awaited; the merged result replaces the payload.
    Before,
    /// Fire-and-forget; errors logged.
    After,
    /// Awaited, result ignored (lifecycle events).
    Call,
    /// A cron tick: no `this`, one `Date` argument.
    Cron,
    /// A request for routes hooks registered on `app`; the result is the response or `{next}`.
    Route,
    /// `request.not_found` with `(req, res)`; the result is the response or `{next}`.
    NotFound,
}

