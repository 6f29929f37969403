//! Where messages go, configured like Directus's nodemailer transports (spec §6): SMTP through
//! lettre (rustls, so no OpenSSL), or a sendmail binary fed the message on stdin.

use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::Value;
use tokio::io::AsyncWriteExt;

use crate::config::{ConfigError, Env};
use crate::ApiError;

pub(super) enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Sendmail { path: String, crlf: bool },
    /// A transport Rectus doesn't implement (`mailgun`): the server still starts with a Directus
    /// `.env`, and each send fails saying why.
    Unsupported(String),
}

fn unavailable(reason: impl std::fmt::Display) -> ApiError {
    ApiError::service_unavailable(format!("Couldn't send email: {reason}"), "email")
}

impl Transport {
    pub fn from_env(env: &Env) -> Result<Transport, ConfigError> {
        let name = env.string("EMAIL_TRANSPORT").unwrap_or_else(|| "sendmail".into()).to_lowercase();
        match name.as_str() {
            "smtp" => smtp(env).map(Transport::Smtp),
            "sendmail" => Ok(Transport::Sendmail {
                path: env.string("EMAIL_SENDMAIL_PATH").unwrap_or_else(|| "/usr/sbin/sendmail".into()),
                crlf: matches!(env.string("EMAIL_SENDMAIL_NEW_LINE").as_deref(), Some("windows" | "win" | "dos")),
            }),
            other => {
                tracing::warn!("EMAIL_TRANSPORT \"{other}\" is not supported (use smtp or sendmail); sending email will fail");
                Ok(Transport::Unsupported(other.to_string()))
            }
        }
    }

    pub async fn send(&self, message: Message) -> Result<(), ApiError> {
        match self {
            Transport::Smtp(smtp) => smtp.send(message).await.map(drop).map_err(unavailable),
            Transport::Sendmail { path, crlf } => sendmail(path, *crlf, &message).await,
            Transport::Unsupported(name) => Err(unavailable(format!("EMAIL_TRANSPORT \"{name}\" is not supported"))),
        }
    }
}

/// nodemailer's SMTP options as Directus passes them: `secure` is TLS from the first byte (port
/// 465 by default), otherwise STARTTLS when the server offers it unless `EMAIL_SMTP_IGNORE_TLS`;
/// credentials only when a user or password is set; `EMAIL_SMTP_POOL` keeps connections open
/// for reuse, without it each message has its own connection.
fn smtp(env: &Env) -> Result<AsyncSmtpTransport<Tokio1Executor>, ConfigError> {
    let host = env.string("EMAIL_SMTP_HOST").filter(|h| !h.is_empty()).unwrap_or_else(|| "localhost".into());
    let secure = env.bool("EMAIL_SMTP_SECURE") == Some(true);
    let port = match env.get("EMAIL_SMTP_PORT") {
        None | Some(Value::Null) => if secure { 465 } else { 587 },
        Some(v) => {
            let text = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
            text.parse::<u16>().map_err(|_| ConfigError::invalid("EMAIL_SMTP_PORT", format!("\"{text}\" is not a port number")))?
        }
    };
    let tls_parameters = || TlsParameters::new(host.clone()).map_err(|e| ConfigError::invalid("EMAIL_SMTP_HOST", e.to_string()));
    let tls = if secure {
        Tls::Wrapper(tls_parameters()?)
    } else if env.bool("EMAIL_SMTP_IGNORE_TLS") == Some(true) {
        Tls::None
    } else {
        Tls::Opportunistic(tls_parameters()?)
    };
    // A pool of size 0 closes each connection after its message, as a non-pooled nodemailer does.
    let pool = if env.bool("EMAIL_SMTP_POOL") == Some(true) { PoolConfig::new().max_size(5) } else { PoolConfig::new().max_size(0) };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host).port(port).tls(tls).pool_config(pool);
    let (user, password) = (env.string("EMAIL_SMTP_USER").unwrap_or_default(), env.string("EMAIL_SMTP_PASSWORD").unwrap_or_default());
    if !user.is_empty() || !password.is_empty() {
        builder = builder.credentials(Credentials::new(user, password));
    }
    Ok(builder.build())
}

/// Pipes the message into `sendmail -i -f <from> -- <recipients>`, with LF line ends unless
/// `EMAIL_SENDMAIL_NEW_LINE` is `windows` (local sendmails expect the system's line ends).
async fn sendmail(path: &str, crlf: bool, message: &Message) -> Result<(), ApiError> {
    let envelope = message.envelope();
    let mut command = tokio::process::Command::new(path);
    command.arg("-i");
    if let Some(from) = envelope.from() {
        command.arg("-f").arg(from);
    }
    command.arg("--").args(envelope.to().iter().map(ToString::to_string));
    command.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped());
    let mut child = command.spawn().map_err(|e| unavailable(format!("can't run {path}: {e}")))?;
    let mut raw = message.formatted();
    if !crlf {
        raw = String::from_utf8_lossy(&raw).replace("\r\n", "\n").into_bytes();
    }
    let mut stdin = child.stdin.take().expect("stdin is piped");
    stdin.write_all(&raw).await.map_err(|e| unavailable(format!("writing to {path}: {e}")))?;
    drop(stdin);
    let output = child.wait_with_output().await.map_err(|e| unavailable(format!("{path}: {e}")))?;
    if !output.status.success() {
        return Err(unavailable(format!("{path} exited with {}: {}", output.status, String::from_utf8_lossy(&output.stderr).trim())));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sendmail_gets_envelope_and_unix_line_ends() {
        let dir = std::env::temp_dir().join(format!("rectus-sendmail-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let script = dir.join("sendmail");
        std::fs::write(&script, format!("#!/bin/sh\necho \"$@\" > {0}/args\ncat > {0}/message\n", dir.display())).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let env = Env::from_pairs([("EMAIL_TRANSPORT", "sendmail"), ("EMAIL_SENDMAIL_PATH", script.to_str().unwrap())]);
        let message = Message::builder().from("a@example.com".parse().unwrap()).to("b@example.com".parse().unwrap()).subject("s").body("line 1\nline 2".to_string()).unwrap();
        Transport::from_env(&env).unwrap().send(message).await.unwrap();
        assert_eq!(std::fs::read_to_string(dir.join("args")).unwrap().trim(), "-i -f a@example.com -- b@example.com");
        let raw = std::fs::read_to_string(dir.join("message")).unwrap();
        assert!(raw.contains("Subject: s\n") && !raw.contains('\r'), "{raw:?}");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn failures_are_service_unavailable() {
        let env = Env::from_pairs([("EMAIL_TRANSPORT", "sendmail"), ("EMAIL_SENDMAIL_PATH", "/nonexistent/sendmail")]);
        let message = Message::builder().from("a@example.com".parse().unwrap()).to("b@example.com".parse().unwrap()).body(String::new()).unwrap();
        let err = Transport::from_env(&env).unwrap().send(message).await.unwrap_err();
        assert_eq!((err.status, err.code.as_str()), (503, "SERVICE_UNAVAILABLE"));
        assert!(err.message.contains("/nonexistent/sendmail"), "{}", err.message);
    }
}
