//! Webhooks (spec §2.6): every active `directus_webhooks` row listens on `items.<action>` (or
//! `items.*` for `*`, which in rc.83 includes reads) after the hooks, and sends
//! `{event, accountability: {user, role}, collection, item, action, payload}` with the row's method
//! to its URL — from a background task with a timeout and retries, never holding up the request.
//! The list is reloaded whenever a `webhooks.*` event passes, on every instance.

use async_trait::async_trait;
use serde_json::{json, Map, Value};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::cluster::{Member, Peers};
use crate::db::Database;
use crate::events::{EventArgs, EventBus};
use crate::ApiError;

#[derive(Debug, Clone)]
struct Webhook {
    method: reqwest::Method,
    url: String,
    data: bool,
    /// `None` = every action (`*`).
    actions: Option<Vec<String>>,
    /// `None` = every collection (`*`).
    collections: Option<Vec<String>>,
}

fn csv(v: Option<&Value>) -> Option<Vec<String>> {
    let text = v.and_then(Value::as_str).unwrap_or("*");
    if text.trim() == "*" {
        return None;
    }
    Some(text.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
}

/// The active webhooks, reloaded when a `webhooks.*` event passes here or, through the cluster
/// bus, on another instance.
#[derive(Clone)]
pub struct WebhookList {
    db: Database,
    hooks: Arc<RwLock<Vec<Webhook>>>,
    peers: Peers,
}

impl WebhookList {
    pub async fn load(db: &Database) -> Result<WebhookList, ApiError> {
        Ok(WebhookList { db: db.clone(), hooks: Arc::new(RwLock::new(load(db).await?)), peers: Peers::new(TOPIC) })
    }

    /// The list on the cluster bus: reloaded here when another instance saw `webhooks.*`.
    pub fn cluster_member(&self) -> Member {
        let list = self.clone();
        self.peers.member(move || list.reload_local())
    }

    /// Re-reads the list here and tells the other instances to.
    fn reload(&self) {
        self.reload_local();
        self.peers.notify();
    }

    pub fn reload_local(&self) {
        let (db, hooks) = (self.db.clone(), self.hooks.clone());
        tokio::spawn(async move {
            match load(&db).await {
                Ok(fresh) => *hooks.write().unwrap() = fresh,
                Err(e) => tracing::warn!("can't reload webhooks: {}", e.message),
            }
        });
    }
}

/// The webhook list's name on the cluster bus.
const TOPIC: &str = "webhooks";

/// The event bus with webhooks after the hooks.
pub struct WebhookBus {
    inner: Arc<dyn EventBus>,
    list: WebhookList,
    client: reqwest::Client,
}

async fn load(db: &Database) -> Result<Vec<Webhook>, ApiError> {
    let rows = db.query("SELECT * FROM directus_webhooks", &[]).await?.rows;
    Ok(rows
        .iter()
        .filter(|r| r.get("status").and_then(Value::as_str) == Some("active"))
        .filter_map(|r| {
            Some(Webhook {
                method: r.get("method").and_then(Value::as_str).unwrap_or("POST").to_uppercase().parse().ok()?,
                url: r.get("url").and_then(Value::as_str)?.to_string(),
                data: !matches!(r.get("data"), Some(Value::Bool(false))) && r.get("data").and_then(Value::as_i64) != Some(0),
                actions: csv(r.get("actions")),
                collections: csv(r.get("collections")),
            })
        })
        .collect())
}

impl WebhookBus {
    pub fn new(inner: Arc<dyn EventBus>, list: WebhookList) -> Result<Arc<WebhookBus>, ApiError> {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().map_err(|e| ApiError::internal(e.to_string()))?;
        Ok(Arc::new(WebhookBus { inner, list, client }))
    }

    /// The same webhooks in front of another bus (the one services called by hooks use).
    pub fn wrapping(&self, inner: Arc<dyn EventBus>) -> Arc<WebhookBus> {
        Arc::new(WebhookBus { inner, list: self.list.clone(), client: self.client.clone() })
    }

    /// The webhooks that fire for an item event.
    fn matching(&self, event: &str, collection: Option<&str>) -> Vec<Webhook> {
        let Some(action) = event.strip_prefix("items.").filter(|a| !a.contains('.')) else { return vec![] };
        self.list
            .hooks
            .read()
            .unwrap()
            .iter()
            .filter(|w| match &w.actions {
                None => true,
                Some(list) => list.iter().any(|a| a == action),
            })
            .filter(|w| match (&w.collections, collection) {
                (None, _) => true,
                (Some(list), Some(c)) => list.iter().any(|x| x == c),
                (Some(_), None) => false,
            })
            .cloned()
            .collect()
    }

    fn send(&self, hook: Webhook, body: Value) {
        let client = self.client.clone();
        tokio::spawn(async move {
            for attempt in 0..3u32 {
                let mut req = client.request(hook.method.clone(), &hook.url);
                if hook.data {
                    req = req.json(&body);
                }
                match req.send().await {
                    Ok(res) if res.status().is_success() => return,
                    Ok(res) => tracing::warn!("webhook {} answered {}", hook.url, res.status()),
                    Err(e) => tracing::warn!("webhook {} failed: {e}", hook.url),
                }
                tokio::time::sleep(Duration::from_millis(200 * 4u64.pow(attempt))).await;
            }
        });
    }
}

fn webhook_body(ctx: &Map<String, Value>) -> Value {
    let accountability = ctx.get("accountability").cloned().unwrap_or(Value::Null);
    json!({
        "event": ctx.get("event"),
        "accountability": { "user": accountability.get("user"), "role": accountability.get("role") },
        "collection": ctx.get("collection"),
        "item": ctx.get("item"),
        "action": ctx.get("action"),
        "payload": ctx.get("payload"),
    })
}

/// A write to `directus_webhooks`, after which the list is read again.
fn changes_webhooks(event: &str) -> bool {
    event.starts_with("webhooks.") && !event.ends_with(".read")
}

#[async_trait]
impl EventBus for WebhookBus {
    fn has_listeners(&self, event: &str) -> bool {
        self.inner.has_listeners(event) || changes_webhooks(event) || (event.starts_with("items.") && !self.list.hooks.read().unwrap().is_empty())
    }

    async fn emit_before(&self, event: &str, args: EventArgs) -> Result<Option<Value>, ApiError> {
        self.inner.emit_before(event, args).await
    }

    fn emit_after(&self, event: &str, args: EventArgs) {
        if let Some(ctx) = &args.context {
            let collection = ctx.get("collection").and_then(Value::as_str);
            let hooks = self.matching(event, collection);
            if !hooks.is_empty() {
                let body = webhook_body(ctx);
                for hook in hooks {
                    self.send(hook, body.clone());
                }
            }
        }
        if changes_webhooks(event) {
            self.list.reload();
        }
        self.inner.emit_after(event, args);
    }

    async fn emit_awaited(&self, event: &str, args: EventArgs) {
        self.inner.emit_awaited(event, args).await
    }
}
