//! The event bus the services emit on. Core only knows this trait; the JS hook runtime implements
//! it, and without hooks the [`NoHooks`] bus makes every emit free.
//!
//! Kinds follow Directus (spec §1.4, §2): `before` events are awaited and may replace the payload
//! or cancel the operation; `after` events are fire-and-forget; `awaited` events (lifecycle) are
//! awaited but their errors only logged.

use async_trait::async_trait;
use serde_json::{Map, Value};

use crate::db::SharedTransaction;
use crate::ApiError;

/// The arguments of one emit: `input` first when the event has one, then the context object.
#[derive(Debug, Clone, Default)]
pub struct EventArgs {
    pub input: Option<Value>,
    /// `None` for events Directus emits without arguments (`init`, `server.start`, ...).
    pub context: Option<Map<String, Value>>,
    /// How many hook → service → hook calls led here (0 for a request); bounded by the runtime.
    pub depth: u32,
    /// The transaction the context's `database` is bound to (`create.before`, and events of a
    /// service a hook created with `knex: database`); `None` = the pool.
    pub database: Option<SharedTransaction>,
}

impl EventArgs {
    pub fn context(context: Map<String, Value>) -> Self {
        EventArgs { input: None, context: Some(context), ..Default::default() }
    }

    pub fn with_input(input: Value, context: Map<String, Value>) -> Self {
        EventArgs { input: Some(input), context: Some(context), ..Default::default() }
    }

    /// An event with no arguments at all.
    pub fn none() -> Self {
        EventArgs::default()
    }

    /// A single argument that is not a context object (`error` gets the errors array).
    pub fn value(input: Value) -> Self {
        EventArgs { input: Some(input), ..Default::default() }
    }

    pub fn at_depth(mut self, depth: u32) -> Self {
        self.depth = depth;
        self
    }

    pub fn on(mut self, database: Option<SharedTransaction>) -> Self {
        self.database = database;
        self
    }
}

#[async_trait]
pub trait EventBus: Send + Sync + 'static {
    /// Whether any listener matches `event` (cheap; lets callers skip building arguments).
    fn has_listeners(&self, event: &str) -> bool;

    /// A blocking event: returns the payload to use (the input, possibly replaced or mutated by
    /// the listeners), or the error that cancels the operation.
    async fn emit_before(&self, event: &str, args: EventArgs) -> Result<Option<Value>, ApiError>;

    /// An after event: queued, never awaited, errors logged by the runtime.
    fn emit_after(&self, event: &str, args: EventArgs);

    /// A lifecycle event the caller waits for; listener errors are logged, not returned.
    async fn emit_awaited(&self, event: &str, args: EventArgs);
}

/// The bus when no hooks are loaded.
pub struct NoHooks;

#[async_trait]
impl EventBus for NoHooks {
    fn has_listeners(&self, _event: &str) -> bool {
        false
    }

    async fn emit_before(&self, _event: &str, args: EventArgs) -> Result<Option<Value>, ApiError> {
        Ok(args.input)
    }

    fn emit_after(&self, _event: &str, _args: EventArgs) {}

    async fn emit_awaited(&self, _event: &str, _args: EventArgs) {}
}
