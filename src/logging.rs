//! Log lines like Directus's pino: `LOG_LEVEL` (fatal, error, warn, info, debug, trace, silent)
//! and `LOG_STYLE` (`pretty` for people, `raw` for one JSON object per line).

use tracing_subscriber::EnvFilter;

pub fn init(level: &str, style: &str) {
    let directive = match level {
        "fatal" | "error" => "error",
        "warn" => "warn",
        "debug" => "debug",
        "trace" => "trace",
        "silent" => "off",
        _ => "info",
    };
    let filter = EnvFilter::new(format!("{directive},sqlx=warn,hyper=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if style == "raw" { builder.json().flatten_event(true).try_init() } else { builder.with_target(false).try_init() };
}
