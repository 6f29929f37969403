//! Who is making a request (spec §5.2). `None` where a service runs without accountability
//! ("sudo"): no permission checks, no activity rows.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Accountability {
    pub user: Option<String>,
    pub role: Option<String>,
    pub admin: bool,
    pub app: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
}

impl Accountability {
    /// A request without a token: the public role (`role: null`).
    pub fn public(ip: Option<String>, user_agent: Option<String>) -> Self {
        Accountability { ip, user_agent, ..Default::default() }
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// The JSON hooks see for an optional accountability (`null` for sudo services).
pub fn to_json(accountability: Option<&Accountability>) -> Value {
    accountability.map(Accountability::to_json).unwrap_or(Value::Null)
}
