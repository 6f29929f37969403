//! During `rectus hooks test` log lines are not printed as they happen: they are collected and
//! belong to the case that is running (cases run one at a time), so `expect.logs` can check
//! what a hook wrote with `console.log` and a failing case can show its logs.
//!
//! Collected: everything the hooks log (target `hooks`, debug and up) and warnings and errors
//! from anywhere else (a hook that fails to register, a runaway hook stopped by the watchdog).

use std::fmt::Write;
use std::sync::Mutex;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Makes the collector the process's only log output.
pub fn install() {
    let _ = tracing_subscriber::registry().with(Collector).try_init();
}

/// The lines collected so far, left in place.
pub fn peek() -> Vec<String> {
    LINES.lock().unwrap().clone()
}

/// The lines collected since the last call.
pub fn take() -> Vec<String> {
    std::mem::take(&mut *LINES.lock().unwrap())
}

struct Collector;

impl<S: Subscriber> Layer<S> for Collector {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let level = *event.metadata().level();
        let from_hooks = event.metadata().target() == "hooks";
        if !(from_hooks && level <= Level::DEBUG || level <= Level::WARN) {
            return;
        }
        let mut text = Text(String::new());
        event.record(&mut text);
        LINES.lock().unwrap().push(format!("{level:>5} {}", text.0));
    }
}

/// The message first, then any other fields as `name=value`.
struct Text(String);

impl Visit for Text {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let rest = std::mem::take(&mut self.0);
            let _ = write!(self.0, "{value:?}{rest}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.insert_str(0, value);
        } else {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }
}
