//! Mail over a real SMTP exchange: `services.MailService` from a hook (custom Liquid template,
//! plain html, a caught failure), the password request/reset flow and user invites (from the
//! routes and from a hook's `UsersService`), received by the in-test SMTP sink.

mod common;

use common::smtp::SmtpSink;
use common::*;
use serde_json::{json, Value};

fn smtp_env(sink: &SmtpSink) -> Vec<(&'static str, String)> {
    vec![
        ("EMAIL_TRANSPORT", "smtp".into()),
        ("EMAIL_SMTP_HOST", "127.0.0.1".into()),
        ("EMAIL_SMTP_PORT", sink.port.to_string()),
        ("EMAIL_SMTP_USER", "mailer".into()),
        ("EMAIL_SMTP_PASSWORD", "s3cret".into()),
        ("EMAIL_FROM", "Rectus <no-reply@example.com>".into()),
        ("HOOKS_POOL_SIZE", "1".into()),
    ]
}

fn borrowed<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[tokio::test]
async fn hooks_send_mail_with_templates_and_html() {
    let sink = SmtpSink::start().await;
    let db = TestDb::new(Engine::Sqlite).await;
    let ext = fixture("hooks/mail");
    let templates = fixture("mail-templates");
    let mut env = smtp_env(&sink);
    env.push(("EMAIL_TEMPLATES_PATH", templates.to_string_lossy().into_owned()));
    env.push(("EMAIL_SMTP_POOL", "true".into()));
    let env = borrowed(&env);
    Server::start(&db, Some(&ext), &env).await.stop();
    db.execute(&format!("CREATE TABLE orders (id {}, kind varchar(20), email varchar(100), note varchar(100));", db.serial_pk())).await;
    db.execute("INSERT INTO directus_settings (project_name, project_color) VALUES ('Acme Shop', '#ff0066');").await;
    let server = Server::start(&db, Some(&ext), &env).await;
    let token = server.admin_token().await;
    let create = |body: Value| {
        let req = server.client.post(server.url("/items/orders")).bearer_auth(&token).json(&body);
        async move { json(req.send().await.unwrap()).await }
    };

    let (status, body) = create(json!({ "kind": "template", "email": "buyer@example.com", "note": "rush" })).await;
    assert_eq!(status, 200, "{body}");
    let mail = sink.next().await;
    assert_eq!(mail.to, vec!["buyer@example.com"]);
    assert_eq!(mail.from, "no-reply@example.com", "EMAIL_FROM is the default sender");
    assert_eq!(mail.auth.as_deref().map(|a| a.starts_with("AUTH PLAIN")), Some(true), "EMAIL_SMTP_USER/PASSWORD authenticate");
    assert_eq!(mail.header("Subject").as_deref(), Some("Order 1"));
    let html = mail.text();
    assert!(html.contains("<p class=\"custom\">Order #1 at Acme Shop: RUSH</p>"), "custom template with settings data: {html}");
    assert!(html.contains("#ff0066") && html.contains("<html"), "rendered inside the built-in base layout: {html}");

    let (status, _) = create(json!({ "kind": "html", "email": "buyer@example.com", "note": "plain" })).await;
    assert_eq!(status, 200);
    let mail = sink.next().await;
    assert_eq!(mail.from, "shop@example.com");
    assert_eq!(mail.to, vec!["buyer@example.com", "audit@example.com"]);
    assert!(mail.header("Content-Type").unwrap().starts_with("text/html"), "{}", mail.data);
    assert!(mail.text().contains("<p>Order 2: plain</p>"), "{}", mail.data);

    let (status, _) = create(json!({ "kind": "missing", "email": "buyer@example.com" })).await;
    assert_eq!(status, 200);
    let mail = sink.next().await;
    assert_eq!(mail.header("Subject").as_deref(), Some("caught"));
    assert!(mail.text().contains("InvalidPayloadException: Template \"no-such-template\" doesn't exist."), "{}", mail.text());
    assert_eq!(sink.connections(), 1, "EMAIL_SMTP_POOL reuses the connection");
    server.stop();
}

async fn post(server: &Server, path: &str, body: Value) -> (u16, Value) {
    json(server.client.post(server.url(path)).json(&body).send().await.unwrap()).await
}

async fn login_status(server: &Server, password: &str) -> u16 {
    post(server, "/auth/login", json!({ "email": ADMIN_EMAIL, "password": password })).await.0
}

/// The token of the reset link in a password-reset mail.
fn token_in(mail: &common::smtp::Received, link_prefix: &str) -> String {
    let text = mail.text();
    let start = text.find(link_prefix).unwrap_or_else(|| panic!("no {link_prefix} link in {text}")) + link_prefix.len();
    text[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')).collect()
}

async fn password_reset_flow(engine: Engine) {
    let sink = SmtpSink::start().await;
    let db = TestDb::new(engine).await;
    let mut env = smtp_env(&sink);
    env.push(("PASSWORD_RESET_URL_ALLOW_LIST", "https://app.example.com/reset,https://other.example.com/r".into()));
    env.push(("PUBLIC_URL", "https://api.example.com".into()));
    let recorder = fixture("hooks/recorder");
    Server::start(&db, Some(&recorder), &borrowed(&env)).await.stop();
    db.execute(&format!("CREATE TABLE probe (id {});", db.serial_pk())).await;
    let server = Server::start(&db, Some(&recorder), &borrowed(&env)).await;

    // Unknown emails get the same empty 200 and no mail; a URL outside the allow list is a 400.
    let res = server.client.post(server.url("/auth/password/request")).json(&json!({ "email": "nobody@example.com" })).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "");
    assert!(sink.nothing_within(300).await, "{engine:?}: no mail for an unknown email");
    let (status, body) = post(&server, "/auth/password/request", json!({ "email": ADMIN_EMAIL, "reset_url": "https://evil.example.com/reset" })).await;
    assert_eq!((status, body["errors"][0]["extensions"]["code"].clone()), (400, json!("INVALID_PAYLOAD")), "{engine:?} {body}");
    let (status, body) = post(&server, "/auth/password/request", json!({})).await;
    assert_eq!((status, body["errors"][0]["extensions"]["code"].clone()), (400, json!("INVALID_PAYLOAD")), "{body}");

    // Without reset_url the link points at PUBLIC_URL's admin app.
    let (status, _) = post(&server, "/auth/password/request", json!({ "email": "Admin@Example.com" })).await;
    assert_eq!(status, 200);
    let mail = sink.next().await;
    assert_eq!(mail.to, vec![ADMIN_EMAIL], "{engine:?}");
    assert_eq!(mail.header("Subject").as_deref(), Some("Password Reset Request"));
    let first = token_in(&mail, "https://api.example.com/admin/reset-password?token=");

    let (status, _) = post(&server, "/auth/password/request", json!({ "email": ADMIN_EMAIL, "reset_url": "https://app.example.com/reset" })).await;
    assert_eq!(status, 200);
    let mail = sink.next().await;
    let token = token_in(&mail, "https://app.example.com/reset?token=");
    assert_eq!(sink.connections(), 2, "{engine:?}: without EMAIL_SMTP_POOL each message has its own connection");
    assert!(mail.text().contains(ADMIN_EMAIL), "{engine:?}");

    // Bad tokens and missing fields.
    let (status, body) = post(&server, "/auth/password/reset", json!({ "token": "not-a-token", "password": "x" })).await;
    assert_eq!((status, body["errors"][0]["extensions"]["code"].clone()), (401, json!("INVALID_CREDENTIALS")), "{engine:?} {body}");
    let (status, body) = post(&server, "/auth/password/reset", json!({ "token": token })).await;
    assert_eq!((status, body["errors"][0]["message"].clone()), (400, json!("\"password\" field is required.")));
    let (status, body) = json(server.client.get(server.url("/users/me")).bearer_auth(&token).send().await.unwrap()).await;
    assert_eq!(status, 401, "{engine:?}: a reset token is not an access token: {body}");

    // Reset: the new password works, the old one doesn't, users.update fired, and every link
    // issued before the change is spent.
    let (status, body) = post(&server, "/auth/password/reset", json!({ "token": token, "password": "n3w-passw0rd" })).await;
    assert_eq!(status, 200, "{engine:?} {body}");
    assert_eq!(login_status(&server, "n3w-passw0rd").await, 200, "{engine:?}");
    assert_eq!(login_status(&server, ADMIN_PASSWORD).await, 401, "{engine:?}");
    for spent in [&token, &first] {
        let (status, body) = post(&server, "/auth/password/reset", json!({ "token": spent, "password": "again" })).await;
        assert_eq!((status, body["errors"][0]["extensions"]["code"].clone()), (403, json!("FORBIDDEN")), "{engine:?} {body}");
    }
    let admin = json(server.client.post(server.url("/auth/login")).json(&json!({ "email": ADMIN_EMAIL, "password": "n3w-passw0rd" })).send().await.unwrap()).await.1;
    let access = admin["data"]["access_token"].as_str().unwrap().to_string();
    let (_, body) = json(server.client.post(server.url("/items/probe")).bearer_auth(&access).json(&json!({})).send().await.unwrap()).await;
    let events = body["errors"][0]["extensions"]["events"].as_array().cloned().unwrap();
    let updates: Vec<&Value> = events.iter().filter(|e| e["event"].as_str().is_some_and(|n| n.starts_with("users.update"))).collect();
    let names: Vec<&str> = updates.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(names, ["users.update.before", "users.update"], "{engine:?}");
    for event in updates {
        assert_eq!(event["accountability"], Value::Null, "{engine:?}: the reset runs without accountability");
        assert_eq!(event["payload"]["status"], "active", "{engine:?}");
        assert_eq!(event["item"].as_array().map(Vec::len), Some(1), "{engine:?}");
    }
    server.stop();
}

#[tokio::test]
async fn password_reset_sqlite() {
    password_reset_flow(Engine::Sqlite).await;
}

#[tokio::test]
async fn password_reset_postgres() {
    password_reset_flow(Engine::Postgres).await;
}

#[tokio::test]
async fn password_reset_mysql() {
    password_reset_flow(Engine::MySql).await;
}

/// `POST /users/invite` creates invited users (as the caller: the public role may not) and mails
/// each a link; `POST /users/invite/accept` activates the account with a password, once.
async fn invite_flow(engine: Engine) {
    let sink = SmtpSink::start().await;
    let db = TestDb::new(engine).await;
    let mut env = smtp_env(&sink);
    env.push(("USER_INVITE_URL_ALLOW_LIST", "https://app.example.com/invite".into()));
    env.push(("PUBLIC_URL", "https://api.example.com".into()));
    let server = Server::start(&db, None, &borrowed(&env)).await;
    let admin = server.admin_token().await;
    let role = server.send(&admin, "POST", "/roles", Some(json!({ "name": "Editors" }))).await.1["data"]["id"].as_str().unwrap().to_string();

    let (status, body) = server.send(&admin, "POST", "/users/invite", Some(json!({ "email": ["new@example.com", "two@example.com"], "role": role }))).await;
    assert_eq!((status, body), (200, Value::Null), "{engine:?}");
    let first = sink.next().await;
    assert_eq!((first.to.clone(), first.header("Subject")), (vec!["new@example.com".to_string()], Some("You've been invited".to_string())), "{engine:?}");
    let token = token_in(&first, "https://api.example.com/admin/accept-invite?token=");
    assert_eq!(sink.next().await.to, vec!["two@example.com"]);
    let (_, invited) = server.send(&admin, "GET", "/users?filter[status][_eq]=invited&fields=email,role&sort=email", None).await;
    assert_eq!(invited["data"], json!([{ "email": "new@example.com", "role": role }, { "email": "two@example.com", "role": role }]), "{engine:?}");

    // Refused invites create nobody and mail nobody.
    for (token, body, status, code) in [
        ("", json!({ "email": "pub@example.com", "role": role }), 403, "FORBIDDEN"),
        (admin.as_str(), json!({ "email": "x@example.com", "role": role, "invite_url": "https://evil.example.com/i" }), 400, "INVALID_PAYLOAD"),
        (admin.as_str(), json!({ "email": "not an email", "role": role }), 400, "INVALID_PAYLOAD"),
        (admin.as_str(), json!({ "email": "new@example.com", "role": role }), 400, "RECORD_NOT_UNIQUE"),
    ] {
        let (got, answer) = server.send(token, "POST", "/users/invite", Some(body.clone())).await;
        assert_eq!((got, answer["errors"][0]["extensions"]["code"].clone()), (status, json!(code)), "{engine:?} {body}: {answer}");
    }
    assert!(sink.nothing_within(300).await, "{engine:?}: no mail for refused invites");
    assert_eq!(db.count("directus_users", "status = 'invited'").await, 2, "{engine:?}");

    // An allowed invite_url is the link's base.
    let (status, _) = server.send(&admin, "POST", "/users/invite", Some(json!({ "email": "three@example.com", "role": role, "invite_url": "https://app.example.com/invite" }))).await;
    assert_eq!(status, 200);
    token_in(&sink.next().await, "https://app.example.com/invite?token=");

    // Accepting sets the password and activates the user, once.
    let (status, body) = post(&server, "/users/invite/accept", json!({ "token": "forged", "password": "x" })).await;
    assert_eq!((status, body["errors"][0]["extensions"]["code"].clone()), (401, json!("INVALID_CREDENTIALS")), "{engine:?}");
    let (status, body) = post(&server, "/users/invite/accept", json!({ "token": token, "password": "w3lcome!" })).await;
    assert_eq!(status, 200, "{engine:?} {body}");
    let (status, _) = post(&server, "/auth/login", json!({ "email": "new@example.com", "password": "w3lcome!" })).await;
    assert_eq!(status, 200, "{engine:?}");
    let (status, body) = post(&server, "/users/invite/accept", json!({ "token": token, "password": "again" })).await;
    assert_eq!((status, body["errors"][0]["message"].clone()), (400, json!("Email address new@example.com hasn't been invited.")), "{engine:?}");
    server.stop();
}

#[tokio::test]
async fn invites_sqlite() {
    invite_flow(Engine::Sqlite).await;
}

#[tokio::test]
async fn invites_postgres() {
    invite_flow(Engine::Postgres).await;
}

#[tokio::test]
async fn invites_mysql() {
    invite_flow(Engine::MySql).await;
}

/// A hook's `UsersService.inviteUser` and `requestPasswordReset` mail like the routes do.
#[tokio::test]
async fn hooks_invite_users_and_request_resets() {
    let sink = SmtpSink::start().await;
    let db = TestDb::new(Engine::Sqlite).await;
    let ext = fixture("hooks/invite");
    let mut env = smtp_env(&sink);
    env.push(("PUBLIC_URL", "https://api.example.com".into()));
    let env = borrowed(&env);
    Server::start(&db, Some(&ext), &env).await.stop();
    db.execute(&format!("CREATE TABLE signups (id {}, kind varchar(20), email varchar(100), role char(36));", db.serial_pk())).await;
    let server = Server::start(&db, Some(&ext), &env).await;
    let admin = server.admin_token().await;
    let role = server.send(&admin, "POST", "/roles", Some(json!({ "name": "Members" }))).await.1["data"]["id"].as_str().unwrap().to_string();

    let (status, body) = server.send(&admin, "POST", "/items/signups", Some(json!({ "kind": "invite", "email": "joiner@example.com", "role": role }))).await;
    assert_eq!(status, 200, "{body}");
    let mail = sink.next().await;
    assert_eq!((mail.to.clone(), mail.header("Subject")), (vec!["joiner@example.com".to_string()], Some("Join us".to_string())));
    let token = token_in(&mail, "https://api.example.com/admin/accept-invite?token=");
    // The invite's transaction commits once its mail went out.
    assert_eq!(db.count_reaching("directus_users", "email = 'joiner@example.com' AND status = 'invited'", 1).await, 1);
    let (status, _) = post(&server, "/users/invite/accept", json!({ "token": token, "password": "j0ined!" })).await;
    assert_eq!(status, 200);

    let (status, _) = server.send(&admin, "POST", "/items/signups", Some(json!({ "kind": "reset", "email": "joiner@example.com" }))).await;
    assert_eq!(status, 200);
    let mail = sink.next().await;
    assert_eq!(mail.header("Subject").as_deref(), Some("Password Reset Request"));
    token_in(&mail, "https://api.example.com/admin/reset-password?token=");
    server.stop();
}
