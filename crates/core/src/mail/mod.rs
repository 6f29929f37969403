//! `MailService` (spec §4.4): nodemailer-style options (`to`, `cc`, `bcc`, `replyTo`, `from`,
//! `subject`, `text`, `html`) plus `template: {name, data}`, rendered with Liquid and sent through
//! the transport `EMAIL_TRANSPORT` selects (spec §6.3).
//!
//! Decisions:
//! - Custom templates are looked up in `EMAIL_TEMPLATES_PATH` when it is set (the name later
//!   Directus versions read), else in `<EXTENSIONS_PATH>/templates` as rc.83 does; then the
//!   built-in `base`, `password-reset` and `user-invitation`.
//! - Template data starts from the project values Directus adds (`projectName`, `projectColor`,
//!   `projectLogo` from `directus_settings`); the caller's data wins on equal keys.
//! - A failing transport is a 503 `SERVICE_UNAVAILABLE` with `service: "email"` and the
//!   transport's reason, so a hook can catch it as `ServiceUnavailableException` (nodemailer's
//!   plain errors would be an anonymous 500).

mod message;
mod templates;
mod transport;

use sea_query::{Alias, Query};
use serde_json::{json, Map, Value};
use std::sync::{Arc, Mutex};

use crate::config::{Config, ConfigError};
use crate::db::Database;
use crate::ApiError;
use message::MailOptions;
use templates::Templates;
use transport::Transport;

/// Messages a mailer recorded, in the order they were sent (what `hooks test` cases assert).
#[derive(Clone, Default)]
pub struct Outbox(Arc<Mutex<Vec<Value>>>);

impl Outbox {
    /// The recorded messages (see `MailOptions::summary`), leaving the outbox empty.
    pub fn take(&self) -> Vec<Value> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn record(&self, message: Value) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(message);
    }
}

/// The configured mail sender, shared by the HTTP routes and hooks.
pub struct Mailer {
    transport: Transport,
    /// Where sent messages are also recorded, and whether they still go out.
    outbox: Option<(Outbox, bool)>,
    /// `EMAIL_FROM`: the sender when the options name none.
    from: String,
    templates: Templates,
    public_url: String,
}

impl Mailer {
    pub fn from_config(config: &Config) -> Result<Mailer, ConfigError> {
        let env = &config.env;
        let templates_dir = match env.string("EMAIL_TEMPLATES_PATH").filter(|p| !p.is_empty()) {
            Some(path) => crate::config::resolve(&config.cwd, &path),
            None => config.extensions_path.join("templates"),
        };
        Ok(Mailer {
            transport: Transport::from_env(env)?,
            outbox: None,
            from: env.string("EMAIL_FROM").unwrap_or_else(|| "no-reply@directus.io".into()),
            templates: Templates::new(templates_dir),
            public_url: config.public_url.trim_end_matches('/').to_string(),
        })
    }

    /// Sends one message; `options` is what `MailService.send` receives.
    pub async fn send(&self, db: &Database, options: &Value) -> Result<(), ApiError> {
        let mut options = MailOptions::parse(options)?;
        if let Some(template) = options.template.take() {
            let mut data = self.project_data(db).await?;
            data.extend(template.data);
            options.html = Some(self.templates.render(&template.name, &data)?);
        }
        let summary = self.outbox.as_ref().map(|_| options.summary(&self.from));
        let message = options.into_message(&self.from)?;
        match (&self.outbox, summary) {
            (Some((outbox, deliver)), Some(summary)) => {
                if *deliver {
                    self.transport.send(message).await?;
                }
                outbox.record(summary);
                Ok(())
            }
            _ => self.transport.send(message).await,
        }
    }

    /// Records every message in `outbox`; with `deliver: false` none leaves the process.
    pub fn recording(mut self, outbox: Outbox, deliver: bool) -> Mailer {
        self.outbox = Some((outbox, deliver));
        self
    }

    /// The values every template can use, from the settings singleton (which may be empty).
    async fn project_data(&self, db: &Database) -> Result<Map<String, Value>, ApiError> {
        let query = Query::select()
            .columns(["project_name", "project_color", "project_logo"].map(Alias::new))
            .from(Alias::new("directus_settings"))
            .limit(1)
            .to_owned();
        let row = db.run(&query).await?.rows.into_iter().next().unwrap_or_default();
        let text = |k: &str| row.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
        let logo = match text("project_logo") {
            Some(file) => format!("{}/assets/{file}", self.public_url),
            None => format!("{}/admin/img/directus-white.png", self.public_url),
        };
        let mut data = Map::new();
        data.insert("projectName".into(), json!(text("project_name").unwrap_or_else(|| "Directus".into())));
        data.insert("projectColor".into(), json!(text("project_color").unwrap_or_else(|| "#546e7a".into())));
        data.insert("projectLogo".into(), json!(logo));
        Ok(data)
    }
}
