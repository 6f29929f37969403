//! The rules `UsersService` / `RolesService` add to plain writes: unique emails, the password
//! policy, the last admin, and what deleting a role takes with it (with the events of each).

mod common;

use common::*;
use serde_json::{json, Value};

async fn users_and_roles(engine: Engine) {
    let db = TestDb::new(engine).await;
    let ext = fixture("hooks/recorder");
    Server::start(&db, Some(&ext), &[]).await.stop();
    db.execute(&format!("CREATE TABLE probe (id {}, note varchar(20));", db.serial_pk())).await;
    let server = Server::start(&db, Some(&ext), &[("HOOKS_POOL_SIZE", "1")]).await;
    let token = server.admin_token().await;
    let code = |body: &Value| body["errors"][0]["extensions"]["code"].as_str().unwrap_or_default().to_string();
    let e = format!("{engine:?}");

    let (status, body) = server.send(&token, "POST", "/users", Some(json!({ "email": "Writer@Example.com", "password": "whatever" }))).await;
    assert_eq!(status, 200, "{e}: {body}");
    let (status, body) = server.send(&token, "POST", "/users", Some(json!({ "email": "writer@example.com", "password": "whatever" }))).await;
    assert_eq!((status, code(&body)), (400, "RECORD_NOT_UNIQUE".into()), "{e}: emails are unique whatever their case");

    server.send(&token, "PATCH", "/settings", Some(json!({ "auth_password_policy": "/^.{8,}$/" }))).await;
    let (status, body) = server.send(&token, "POST", "/users", Some(json!({ "email": "short@example.com", "password": "short" }))).await;
    assert_eq!((status, code(&body)), (400, "FAILED_VALIDATION".into()), "{e}: {body}");
    let (status, _) = server.send(&token, "POST", "/users", Some(json!({ "email": "long@example.com", "password": "long enough" }))).await;
    assert_eq!(status, 200, "{e}");

    let (_, me) = server.send(&token, "GET", "/users/me", None).await;
    let admin = me["data"]["id"].as_str().unwrap().to_string();
    let admin_role = me["data"]["role"].as_str().unwrap().to_string();
    let (status, body) = server.send(&token, "DELETE", &format!("/users/{admin}"), None).await;
    assert_eq!((status, code(&body)), (422, "UNPROCESSABLE_ENTITY".into()), "{e}: the last admin stays: {body}");
    let (status, _) = server.send(&token, "PATCH", &format!("/users/{admin}"), Some(json!({ "status": "suspended" }))).await;
    assert_eq!(status, 422, "{e}: and stays active");
    let (status, _) = server.send(&token, "DELETE", &format!("/roles/{admin_role}"), None).await;
    assert_eq!(status, 422, "{e}: the last admin role stays");

    let (_, role) = server.send(&token, "POST", "/roles", Some(json!({ "name": "Editor" }))).await;
    let role = role["data"]["id"].as_str().unwrap().to_string();
    server.send(&token, "POST", "/permissions", Some(json!({ "role": role, "collection": "probe", "action": "read" }))).await;
    server.send(&token, "POST", "/presets", Some(json!({ "role": role, "collection": "probe" }))).await;
    let (_, editor) = server.send(&token, "POST", "/users", Some(json!({ "email": "editor@example.com", "password": "long enough", "role": role }))).await;
    let editor = editor["data"]["id"].as_str().unwrap().to_string();
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    server.send(&token, "POST", "/items/probe", Some(json!({}))).await;

    let (status, body) = server.send(&token, "DELETE", &format!("/roles/{role}"), None).await;
    assert_eq!(status, 200, "{e}: {body}");
    assert_eq!(db.count("directus_permissions", &format!("role = '{role}'")).await, 0, "{e}");
    assert_eq!(db.count("directus_presets", &format!("role = '{role}'")).await, 0, "{e}");
    let (_, user) = server.send(&token, "GET", &format!("/users/{editor}"), None).await;
    assert_eq!((user["data"]["role"].clone(), user["data"]["status"].clone()), (Value::Null, json!("suspended")), "{e}");

    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    let (_, probe) = server.send(&token, "POST", "/items/probe", Some(json!({}))).await;
    let events: Vec<String> = probe["errors"][0]["extensions"]["events"].as_array().unwrap().iter().filter_map(|r| r["event"].as_str().map(str::to_string)).collect();
    let position = |name: &str| events.iter().position(|ev| ev == name).unwrap_or_else(|| panic!("{e}: {name} in {events:?}"));
    assert!(position("permissions.delete.before") < position("roles.delete.before"), "{e}: {events:?}");
    assert!(position("presets.delete") < position("roles.delete.before"), "{e}: {events:?}");
    assert!(position("users.update") < position("roles.delete"), "{e}: {events:?}");
    assert!(server.stop().success());
}

on_every_engine!(users_and_roles);
