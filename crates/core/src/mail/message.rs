//! The options `MailService.send` takes, checked and turned into a MIME message.

use lettre::message::{Mailbox, Mailboxes, MultiPart, SinglePart};
use lettre::Message;
use serde_json::{Map, Value};

use crate::ApiError;

pub(super) struct TemplateRef {
    pub name: String,
    pub data: Map<String, Value>,
}

/// The nodemailer options Rectus supports; others (attachments, headers, ...) are ignored, as
/// nodemailer ignores keys it doesn't know.
#[derive(Default)]
pub(super) struct MailOptions {
    from: Option<Mailbox>,
    to: Vec<Mailbox>,
    cc: Vec<Mailbox>,
    bcc: Vec<Mailbox>,
    reply_to: Vec<Mailbox>,
    subject: Option<String>,
    text: Option<String>,
    pub html: Option<String>,
    pub template: Option<TemplateRef>,
}

fn invalid_address(field: &str, value: &str, reason: impl std::fmt::Display) -> ApiError {
    ApiError::invalid_payload(format!("\"{field}\" has an invalid address \"{value}\": {reason}"))
}

/// An address field as nodemailer reads it: `"a@x.io, Name <b@y.io>"`, `{name, address}`, or an
/// array of either.
fn mailboxes(field: &str, value: Option<&Value>) -> Result<Vec<Mailbox>, ApiError> {
    match value {
        None | Some(Value::Null) => Ok(vec![]),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(vec![]),
        Some(Value::String(s)) => s.parse::<Mailboxes>().map(|m| m.into_iter().collect()).map_err(|e| invalid_address(field, s, e)),
        Some(Value::Object(o)) => {
            let address = o.get("address").and_then(Value::as_str).unwrap_or_default();
            let name = o.get("name").and_then(Value::as_str).filter(|n| !n.is_empty()).map(str::to_string);
            let email = address.parse().map_err(|e| invalid_address(field, address, e))?;
            Ok(vec![Mailbox::new(name, email)])
        }
        Some(Value::Array(items)) => {
            let mut all = Vec::new();
            for item in items {
                all.extend(mailboxes(field, Some(item))?);
            }
            Ok(all)
        }
        Some(other) => Err(invalid_address(field, &other.to_string(), "expected a string, an {name, address} object or an array")),
    }
}

fn text(options: &Map<String, Value>, field: &str) -> Result<Option<String>, ApiError> {
    match options.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::invalid_payload(format!("\"{field}\" must be a string"))),
    }
}

impl MailOptions {
    pub fn parse(options: &Value) -> Result<MailOptions, ApiError> {
        let options = options.as_object().ok_or_else(|| ApiError::invalid_payload("Mail options must be an object"))?;
        let template = match options.get("template") {
            None | Some(Value::Null) => None,
            Some(t) => {
                let name = t.get("name").and_then(Value::as_str).ok_or_else(|| ApiError::invalid_payload("\"template.name\" must be a string"))?;
                let data = match t.get("data") {
                    None | Some(Value::Null) => Map::new(),
                    Some(Value::Object(d)) => d.clone(),
                    Some(_) => return Err(ApiError::invalid_payload("\"template.data\" must be an object")),
                };
                Some(TemplateRef { name: name.to_string(), data })
            }
        };
        Ok(MailOptions {
            from: mailboxes("from", options.get("from"))?.into_iter().next(),
            to: mailboxes("to", options.get("to"))?,
            cc: mailboxes("cc", options.get("cc"))?,
            bcc: mailboxes("bcc", options.get("bcc"))?,
            reply_to: mailboxes("replyTo", options.get("replyTo"))?,
            subject: text(options, "subject")?,
            text: text(options, "text")?,
            html: text(options, "html")?,
            template,
        })
    }

    /// What a recorded message looks like to the `hooks test` runner: addresses without
    /// display names, absent texts as `null`.
    pub fn summary(&self, default_from: &str) -> Value {
        let addresses = |list: &[Mailbox]| Value::Array(list.iter().map(|m| Value::String(m.email.to_string())).collect());
        let from = self.from.as_ref().map(|m| m.email.to_string()).unwrap_or_else(|| default_from.to_string());
        serde_json::json!({
            "from": from,
            "to": addresses(&self.to),
            "cc": addresses(&self.cc),
            "bcc": addresses(&self.bcc),
            "replyTo": addresses(&self.reply_to),
            "subject": self.subject,
            "text": self.text,
            "html": self.html,
        })
    }

    /// The message, sent from `default_from` unless the options name a sender.
    pub fn into_message(self, default_from: &str) -> Result<Message, ApiError> {
        if self.to.is_empty() && self.cc.is_empty() && self.bcc.is_empty() {
            return Err(ApiError::invalid_payload("No recipients defined"));
        }
        let from = match self.from {
            Some(from) => from,
            None => default_from.parse().map_err(|e| invalid_address("EMAIL_FROM", default_from, e))?,
        };
        let mut builder = Message::builder().from(from).subject(self.subject.unwrap_or_default());
        for m in self.to {
            builder = builder.to(m);
        }
        for m in self.cc {
            builder = builder.cc(m);
        }
        for m in self.bcc {
            builder = builder.bcc(m);
        }
        for m in self.reply_to {
            builder = builder.reply_to(m);
        }
        let built = match (self.text, self.html) {
            (Some(text), Some(html)) => builder.multipart(MultiPart::alternative_plain_html(text, html)),
            (None, Some(html)) => builder.singlepart(SinglePart::html(html)),
            (text, None) => builder.singlepart(SinglePart::plain(text.unwrap_or_default())),
        };
        built.map_err(|e| ApiError::invalid_payload(format!("Can't build the message: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn formatted(options: Value) -> String {
        let message = MailOptions::parse(&options).unwrap().into_message("Rectus <no-reply@example.com>").unwrap();
        String::from_utf8(message.formatted()).unwrap()
    }

    #[test]
    fn address_forms_and_default_sender() {
        let raw = formatted(json!({
            "to": ["a@example.com, B <b@example.com>", { "name": "C", "address": "c@example.com" }],
            "bcc": "hidden@example.com",
            "subject": "Hi",
            "text": "plain body",
        }));
        assert!(raw.contains("From: Rectus <no-reply@example.com>"), "{raw}");
        assert!(raw.contains("a@example.com") && raw.contains("B <b@example.com>") && raw.contains("C <c@example.com>"), "{raw}");
        assert!(!raw.contains("hidden@example.com"), "Bcc must not be a header: {raw}");
        assert!(raw.contains("Subject: Hi") && raw.contains("plain body"), "{raw}");
    }

    #[test]
    fn text_and_html_become_alternatives() {
        let raw = formatted(json!({ "to": "a@example.com", "from": "x@example.com", "text": "t", "html": "<b>h</b>" }));
        assert!(raw.contains("multipart/alternative") && raw.contains("From: x@example.com"), "{raw}");
    }

    #[test]
    fn errors_name_the_field() {
        let err = MailOptions::parse(&json!({ "to": "not an address" })).err().unwrap();
        assert!(err.message.contains("\"to\""), "{}", err.message);
        let err = MailOptions::parse(&json!({ "subject": "x" })).unwrap().into_message("a@b.io").unwrap_err();
        assert_eq!(err.message, "No recipients defined");
    }
}
