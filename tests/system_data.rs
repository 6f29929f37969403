//! Directus rc.83's built-in system data over HTTP on every engine (issue #22 points 1 and 4,
//! issue #23 point 2): the system relations expand, filter and go `deep` as user relations do,
//! over REST and through hooks; `/collections`, `/fields` and `/relations` serve the built-in
//! meta, which a stored row overrides; roles with app access read what rc.83 lets them read
//! without stored permissions; and all of it on a database Directus rc.83 made. Expected values
//! are rc.83's answers to the same requests.

mod common;

use common::*;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

/// A caller of one server.
struct Api<'a> {
    server: &'a Server,
    token: String,
}

impl<'a> Api<'a> {
    async fn login(server: &'a Server, email: &str, password: &str) -> Api<'a> {
        let (status, body) = json(server.client.post(server.url("/auth/login")).json(&json!({ "email": email, "password": password })).send().await.unwrap()).await;
        assert_eq!(status, 200, "login of {email}: {body}");
        Api { server, token: body["data"]["access_token"].as_str().unwrap().to_string() }
    }

    async fn send(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.server.send(&self.token, method, path, body).await
    }

    /// The `data` of a request that must succeed.
    async fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, body) = self.send(method, path, body).await;
        assert_eq!(status, 200, "{method} {path}: {body}");
        body["data"].clone()
    }

    async fn get(&self, path: &str) -> Value {
        self.ok("GET", path, None).await
    }

    /// The status and error code of a request that must fail.
    async fn refused(&self, method: &str, path: &str, body: Option<Value>) -> (u16, String) {
        let (status, body) = self.send(method, path, body).await;
        (status, body["errors"][0]["extensions"]["code"].as_str().unwrap_or_default().to_string())
    }
}

fn names(list: &Value, key: &str) -> Vec<String> {
    let mut out: Vec<String> = list.as_array().unwrap().iter().map(|v| v[key].as_str().unwrap_or_default().to_string()).collect();
    out.sort();
    out
}

fn find<'v>(list: &'v Value, pred: impl Fn(&Value) -> bool) -> Option<&'v Value> {
    list.as_array().unwrap().iter().find(|v| pred(v))
}

/// The system relations and meta on a database Rectus bootstrapped.
async fn system_relations_and_meta(engine: Engine) {
    let db = TestDb::new(engine).await;
    let server = Server::start(&db, Some(&fixture("hooks/system-data")), &[("HOOKS_POOL_SIZE", "1")]).await;
    let admin = Api { server: &server, token: server.admin_token().await };
    let admin_id = admin.get("/users/me").await["id"].clone();

    // A file in a folder, uploaded as the admin, who makes it their avatar.
    let folder = admin.ok("POST", "/folders", Some(json!({ "name": "Photos" }))).await["id"].clone();
    let form = Form::new().text("folder", folder.as_str().unwrap().to_string()).part("file", Part::bytes(b"hello".to_vec()).file_name("hello.txt").mime_str("text/plain").unwrap());
    let (status, body) = json(server.client.post(server.url("/files")).bearer_auth(&admin.token).multipart(form).send().await.unwrap()).await;
    assert_eq!(status, 200, "{engine:?} {body}");
    let file = body["data"]["id"].clone();
    admin.ok("PATCH", "/users/me", Some(json!({ "avatar": file, "first_name": "Ada" }))).await;

    let me = admin.get("/users/me?fields=*,role.*").await;
    // The bootstrap's role as Directus's bootstrap makes it (rc.83 and rc.100 alike).
    let role = |k: &str| me["role"][k].clone();
    assert_eq!((role("name"), role("icon"), role("admin_access"), role("app_access")), (json!("Admin"), json!("supervised_user_circle"), json!(true), json!(true)), "{engine:?} {me}");
    assert_eq!(me["role"]["users"], json!([admin_id]), "{engine:?}: the o2m alias of roles");
    assert_eq!(me["avatar"], file, "{engine:?}: not expanded without a dot");
    let me = admin.get("/users/me?fields=*,avatar.id,role.*").await;
    assert_eq!((me["avatar"].clone(), me["role"]["name"].clone()), (json!({ "id": file }), json!("Admin")), "{engine:?}");

    let files = admin.get("/files?fields=*,uploaded_by.*,folder.*").await;
    assert_eq!((files[0]["uploaded_by"]["email"].clone(), files[0]["folder"]["name"].clone()), (json!(ADMIN_EMAIL), json!("Photos")), "{engine:?} {files}");
    let activity = admin.get("/activity?fields=*,user.*&filter[action][_eq]=authenticate").await;
    assert_eq!(activity[0]["user"]["email"], ADMIN_EMAIL, "{engine:?} {activity}");
    let revisions = admin.get("/revisions?fields=*,activity.*&filter[collection][_eq]=directus_users").await;
    assert_eq!((revisions[0]["activity"]["action"].clone(), revisions[0]["activity"]["collection"].clone()), (json!("update"), json!("directus_users")), "{engine:?}");
    admin.ok("POST", "/presets", Some(json!({ "user": admin_id, "collection": "directus_files", "bookmark": "Mine" }))).await;
    let presets = admin.get("/presets?fields=*,user.email,role.*").await;
    assert_eq!((presets[0]["user"].clone(), presets[0]["role"].clone()), (json!({ "email": ADMIN_EMAIL }), Value::Null), "{engine:?}");
    let role = admin.ok("POST", "/roles", Some(json!({ "name": "Editors" }))).await["id"].clone();
    admin.ok("POST", "/permissions", Some(json!({ "role": role, "collection": "directus_files", "action": "read", "fields": ["*"] }))).await;
    let permissions = admin.get("/permissions?fields=*,role.*&filter[collection][_eq]=directus_files").await;
    assert_eq!(permissions[0]["role"]["name"], "Editors", "{engine:?}: directus_permissions.role has a foreign key only");

    // Filters and deep through system relations.
    assert_eq!(admin.get("/users?fields=email&filter[role][name][_eq]=Admin").await, json!([{ "email": ADMIN_EMAIL }]));
    assert_eq!(admin.get("/users?fields=email&filter[role][name][_eq]=Editors").await, json!([]));
    assert_eq!(admin.get(&format!("/roles?fields=name&filter[users][email][_eq]={ADMIN_EMAIL}")).await, json!([{ "name": "Admin" }]));
    let deep = admin.get("/roles?fields=name,users.email&filter[name][_eq]=Admin&deep[users][_filter][email][_eq]=nobody").await;
    assert_eq!(deep, json!([{ "name": "Admin", "users": [] }]), "{engine:?}");
    assert_eq!(admin.get("/files?fields=title&filter[folder][name][_eq]=Photos").await, json!([{ "title": "Hello" }]));

    // The built-in meta of system collections, fields and relations.
    let users = admin.get("/collections/directus_users").await;
    assert_eq!(
        (users["meta"]["icon"].clone(), users["meta"]["system"].clone(), users["meta"]["archive_field"].clone(), users["meta"]["display_template"].clone()),
        (json!("people_alt"), json!(true), json!("status"), json!("{{ first_name }} {{ last_name }}"))
    );
    let collections = admin.get("/collections").await;
    let settings = find(&collections, |c| c["collection"] == "directus_settings").unwrap();
    assert_eq!((settings["meta"]["singleton"].clone(), settings["meta"]["note"].clone()), (json!(true), json!("Project configuration options")));
    assert!(find(&collections, |c| c["collection"].as_str().unwrap().starts_with("directus_") && c["meta"].is_null()).is_none(), "{engine:?}");
    let role_field = admin.get("/fields/directus_users/role").await;
    // A char(36) column outside PostgreSQL, which Directus reports as a string too.
    let uuid_type = if engine == Engine::Postgres { "uuid" } else { "string" };
    assert_eq!((role_field["type"].clone(), role_field["meta"]["interface"].clone(), role_field["meta"]["special"].clone()), (json!(uuid_type), json!("select-dropdown-m2o"), json!("m2o")));
    let role_fields = admin.get("/fields/directus_roles").await;
    let alias = find(&role_fields, |f| f["field"] == "users").expect("the o2m alias is listed");
    assert_eq!((alias["type"].clone(), alias["schema"].clone(), alias["meta"]["interface"].clone()), (json!("o2m"), Value::Null, json!("list-o2m")));
    let user_fields = admin.get("/fields/directus_users").await;
    let divider = find(&user_fields, |f| f["field"] == "preferences_divider").expect("no-data aliases are listed");
    assert_eq!(divider["meta"]["special"], json!(["alias", "no-data"]));
    assert_eq!(find(&user_fields, |f| f["field"] == "email").unwrap()["meta"]["options"], json!({ "iconRight": "email" }));
    let relations = admin.get("/relations").await;
    let relation = |c: &str, f: &str| find(&relations, |r| r["collection"] == c && r["field"] == f).cloned().unwrap_or_else(|| panic!("{engine:?}: relation {c}.{f}"));
    let users_role = relation("directus_users", "role");
    assert_eq!((users_role["related_collection"].clone(), users_role["meta"]["one_field"].clone(), users_role["meta"]["system"].clone()), (json!("directus_roles"), json!("users"), json!(true)));
    assert_eq!(users_role["schema"]["on_delete"], "SET NULL", "{engine:?}: stitched with its foreign key");
    let avatar = relation("directus_users", "avatar");
    assert_eq!((avatar["related_collection"].clone(), avatar["schema"].clone()), (json!("directus_files"), Value::Null), "{engine:?}: no foreign key, built-in meta");
    let permissions_role = relation("directus_permissions", "role");
    assert_eq!((permissions_role["meta"].clone(), permissions_role["schema"]["foreign_key_table"].clone()), (Value::Null, json!("directus_roles")));
    assert_eq!(admin.get("/relations/directus_revisions").await.as_array().unwrap().len(), 2, "{engine:?}: activity and parent");

    // Hooks see the same schema and expand the same relations.
    admin.ok("POST", "/collections", Some(json!({ "collection": "sysdata_probe", "schema": {}, "fields": [
        { "field": "id", "type": "integer", "schema": { "is_primary_key": true, "has_auto_increment": true } },
        { "field": "report", "type": "text" },
    ] }))).await;
    let created = admin.ok("POST", "/items/sysdata_probe", Some(json!({}))).await;
    let report: Value = serde_json::from_str(created["report"].as_str().unwrap()).unwrap();
    assert_eq!(
        report,
        json!({
            "ctx_users_role": "directus_roles",
            "avatar_related": "directus_files",
            "role_one_field": "users",
            "roles_users_alias": true,
            "users_role_special": ["m2o"],
            "settings_singleton": true,
            "me": { "email": ADMIN_EMAIL, "role": { "name": "Admin" }, "avatar": { "filename_download": "hello.txt" } },
            "files": [{ "filename_download": "hello.txt", "uploaded_by": { "email": ADMIN_EMAIL }, "folder": { "name": "Photos" } }],
        }),
        "{engine:?}"
    );
    assert!(server.stop().success());
}

#[tokio::test]
async fn system_relations_and_meta_on_sqlite() {
    system_relations_and_meta(Engine::Sqlite).await;
}

#[tokio::test]
async fn system_relations_and_meta_on_postgres() {
    system_relations_and_meta(Engine::Postgres).await;
}

#[tokio::test]
async fn system_relations_and_meta_on_mysql() {
    system_relations_and_meta(Engine::MySql).await;
}

/// What a role with app access (and no admin access) may do without stored permissions.
async fn app_access(engine: Engine) {
    let db = TestDb::new(engine).await;
    let server = Server::start(&db, None, &[]).await;
    let admin = Api { server: &server, token: server.admin_token().await };
    let admin_id = admin.get("/users/me").await["id"].clone();
    let editors = admin.ok("POST", "/roles", Some(json!({ "name": "Editors", "app_access": true }))).await["id"].clone();
    let outsiders = admin.ok("POST", "/roles", Some(json!({ "name": "Outsiders", "app_access": false }))).await["id"].clone();
    let user = |email: &str, role: &Value| json!({ "email": email, "password": "pw-123456", "role": role, "status": "active" });
    let editor_id = admin.ok("POST", "/users", Some(user("editor@example.com", &editors))).await["id"].clone();
    let other_id = admin.ok("POST", "/users", Some(user("other@example.com", &editors))).await["id"].clone();
    admin.ok("POST", "/users", Some(user("outsider@example.com", &outsiders))).await;
    admin.ok("POST", "/collections", Some(json!({ "collection": "sysdata_notes", "schema": {}, "meta": {}, "fields": [
        { "field": "id", "type": "integer", "schema": { "is_primary_key": true, "has_auto_increment": true } },
    ] }))).await;
    for preset in [json!({ "user": editor_id, "bookmark": "mine" }), json!({ "role": editors, "bookmark": "role" }), json!({ "bookmark": "global" }), json!({ "user": admin_id, "bookmark": "admin's" })] {
        let mut preset = preset;
        preset["collection"] = json!("sysdata_notes");
        admin.ok("POST", "/presets", Some(preset)).await;
    }
    let editor = Api::login(&server, "editor@example.com", "pw-123456").await;

    // Their own user and role, and nobody else.
    let me = editor.get("/users/me?fields=*,role.*").await;
    assert_eq!((me["email"].clone(), me["role"]["name"].clone(), me["role"]["users"].clone()), (json!("editor@example.com"), json!("Editors"), json!([editor_id])), "{engine:?} {me}");
    assert!(me.get("token").is_none() && me.get("last_access").is_none(), "{engine:?}: only the fields rc.83 lists");
    assert_eq!(editor.get("/users?fields=email").await, json!([{ "email": "editor@example.com" }]));
    assert_eq!(names(&editor.get("/roles").await, "name"), ["Editors"]);
    assert_eq!(editor.get("/settings?fields=project_name").await["project_name"], "Directus");
    assert_eq!(names(&editor.get("/presets").await, "bookmark"), ["global", "mine", "role"], "{engine:?}");
    let mine = editor.ok("POST", "/presets", Some(json!({ "user": editor_id, "collection": "sysdata_notes", "bookmark": "new" }))).await["id"].clone();
    editor.ok("PATCH", &format!("/presets/{mine}"), Some(json!({ "bookmark": "renamed" }))).await;
    assert_eq!(editor.refused("POST", "/presets", Some(json!({ "user": admin_id, "collection": "sysdata_notes" }))).await, (400, "FAILED_VALIDATION".into()));
    let role_preset = find(&editor.get("/presets").await, |p| p["bookmark"] == "role").unwrap()["id"].clone();
    assert_eq!(editor.refused("PATCH", &format!("/presets/{role_preset}"), Some(json!({ "bookmark": "x" }))).await, (403, "FORBIDDEN".into()), "{engine:?}: only their own");
    assert_eq!(names(&editor.get("/activity?fields=user&filter[action][_eq]=authenticate").await, "user"), [editor_id.as_str().unwrap()]);
    assert!(editor.get("/activity").await[0].get("revisions").is_none(), "{engine:?}: relations into unreadable collections are left out");

    // The data model they may read.
    let readable = ["directus_activity", "directus_collections", "directus_fields", "directus_permissions", "directus_presets", "directus_relations", "directus_roles", "directus_settings", "directus_users"];
    assert_eq!(names(&editor.get("/collections").await, "collection"), readable, "{engine:?}");
    let user_fields = names(&editor.get("/fields/directus_users").await, "field");
    assert!(user_fields.contains(&"avatar".to_string()) && !user_fields.contains(&"token".to_string()), "{engine:?} {user_fields:?}");
    let relations = editor.get("/relations").await;
    assert!(find(&relations, |r| r["collection"] == "directus_users" && r["field"] == "role").is_some());
    assert!(find(&relations, |r| r["related_collection"] == "directus_files").is_none(), "{engine:?}: files aren't theirs to read");
    let permissions = editor.get("/permissions?filter[collection][_eq]=directus_presets").await;
    assert_eq!(permissions.as_array().unwrap().len(), 4, "{engine:?}: the built-in rows, listed as rc.83 lists them");
    assert!(permissions.as_array().unwrap().iter().all(|p| p["role"] == editors && p["system"] == true));

    // Everything else is refused.
    for (method, path, body) in [
        ("GET", "/files", None),
        ("GET", "/folders", None),
        ("GET", "/revisions", None),
        ("GET", "/webhooks", None),
        ("GET", "/items/sysdata_notes", None),
        ("GET", "/collections/sysdata_notes", None),
        ("GET", "/fields/directus_files", None),
        ("PATCH", "/settings", Some(json!({ "project_name": "x" }))),
        ("PATCH", "/users/me", Some(json!({ "first_name": "x" }))),
        ("POST", "/users", Some(json!({ "email": "x@example.com" }))),
        ("PATCH", &format!("/roles/{editors}"), Some(json!({ "name": "x" }))),
    ] {
        assert_eq!(editor.refused(method, path, body).await, (403, "FORBIDDEN".into()), "{engine:?}: {method} {path}");
    }

    // A stored permission adds to the built-in one: filters OR-ed, field lists joined.
    admin.ok("POST", "/permissions", Some(json!({ "role": editors, "collection": "directus_users", "action": "read", "permissions": { "email": { "_starts_with": "other" } }, "fields": ["id", "email", "token"] }))).await;
    let users = editor.get("/users?fields=id,email,token,first_name&sort=email").await;
    assert_eq!(names(&users, "email"), ["editor@example.com", "other@example.com"], "{engine:?}");
    assert!(users[1].get("token").is_some() && users[1].get("first_name").is_some(), "{engine:?} {users}");
    assert_eq!(editor.get("/users/me?fields=role.*").await["role"]["users"].as_array().unwrap().len(), 2);
    assert!(editor.get("/users?fields=id").await.as_array().unwrap().iter().any(|u| u["id"] == other_id));

    // Without app access there is nothing of the sort.
    let outsider = Api::login(&server, "outsider@example.com", "pw-123456").await;
    assert_eq!(outsider.get("/users/me").await.as_object().unwrap().keys().collect::<Vec<_>>(), ["id"]);
    assert_eq!(outsider.get("/collections").await, json!([]));
    assert_eq!(outsider.refused("GET", "/presets", None).await, (403, "FORBIDDEN".into()));
    assert!(server.stop().success());
}

#[tokio::test]
async fn app_access_on_sqlite() {
    app_access(Engine::Sqlite).await;
}

#[tokio::test]
async fn app_access_on_postgres() {
    app_access(Engine::Postgres).await;
}

#[tokio::test]
async fn app_access_on_mysql() {
    app_access(Engine::MySql).await;
}

/// Stored `directus_fields`, `directus_collections` and `directus_relations` rows take the place
/// of the built-in ones.
async fn stored_rows_override(engine: Engine) {
    let db = TestDb::new(engine).await;
    let server = Server::start(&db, None, &[]).await;
    let admin = Api { server: &server, token: server.admin_token().await };

    let location = admin.ok("PATCH", "/fields/directus_users/location", Some(json!({ "meta": { "note": "Where they work", "width": "full" } }))).await;
    assert_eq!((location["meta"]["note"].clone(), location["meta"]["width"].clone()), (json!("Where they work"), json!("full")), "{engine:?} {location}");
    assert_eq!(location["meta"]["interface"], "input", "{engine:?}: the rest of the built-in meta is kept");
    assert!(location["meta"]["id"].is_number() && location["meta"].get("system").is_none(), "{engine:?}: a stored row");
    assert_eq!(admin.get("/fields/directus_users/location").await, location);
    assert_eq!(db.count("directus_fields", "collection = 'directus_users'").await, 1);

    // A row written as Directus writes it wins as a whole.
    db.execute("INSERT INTO directus_fields (collection, field, interface, note, readonly, hidden, width) VALUES ('directus_users', 'title', 'input-multiline', 'raw', false, false, 'half');").await;
    let title = find(&admin.get("/fields/directus_users").await, |f| f["field"] == "title").cloned().unwrap();
    assert_eq!((title["meta"]["interface"].clone(), title["meta"]["note"].clone(), title["meta"]["options"].clone()), (json!("input-multiline"), json!("raw"), Value::Null), "{engine:?}");

    let users = admin.ok("PATCH", "/collections/directus_users", Some(json!({ "meta": { "note": "People" } }))).await;
    assert_eq!((users["meta"]["note"].clone(), users["meta"].get("system")), (json!("People"), None), "{engine:?} {users}");

    let role = admin.ok("PATCH", "/relations/directus_users/role", Some(json!({ "meta": { "one_deselect_action": "delete" } }))).await;
    assert_eq!((role["meta"]["one_deselect_action"].clone(), role["meta"]["one_field"].clone()), (json!("delete"), json!("users")), "{engine:?} {role}");
    assert!(role["meta"]["id"].is_number());
    assert_eq!(find(&admin.get("/relations").await, |r| r["collection"] == "directus_users" && r["field"] == "role").unwrap(), &role, "{engine:?}: listed once");
    assert_eq!(admin.get("/users/me?fields=role.*").await["role"]["users"].as_array().unwrap().len(), 1);
    assert!(server.stop().success());
}

#[tokio::test]
async fn stored_rows_override_on_sqlite() {
    stored_rows_override(Engine::Sqlite).await;
}

#[tokio::test]
async fn stored_rows_override_on_postgres() {
    stored_rows_override(Engine::Postgres).await;
}

#[tokio::test]
async fn stored_rows_override_on_mysql() {
    stored_rows_override(Engine::MySql).await;
}

/// A database Directus rc.83 created and used (fixtures/databases/directus-rc83-postgres-dump.sql):
/// the answers rc.83 gave on it.
#[tokio::test]
async fn a_database_directus_made() {
    let db = TestDb::new(Engine::Postgres).await;
    db.execute(include_str!("../fixtures/databases/directus-rc83-postgres-dump.sql")).await;
    let env = Server::env(&db, None, &[]);
    let out = run_cli(&db.dir, &env, &["bootstrap"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to do"), "{}", String::from_utf8_lossy(&out.stderr));
    let server = Server::spawn(&db.dir, &env).await;
    let admin = Api::login(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (admin_id, editor_id, file) = ("6d17ca0d-f6aa-49c9-a701-cb9f0560e8a8", "c08d20cc-710b-4e31-9be1-59ef116f6456", "e2041a8a-5f47-4033-b7f9-4ded720f281c");

    let me = admin.get("/users/me?fields=*,avatar.id,role.*").await;
    assert_eq!((me["first_name"].clone(), me["avatar"].clone()), (json!("Ada"), json!({ "id": file })));
    let role = json!({ "id": "65ea85a1-937c-4e25-b5a0-71f5203c2192", "name": "Admin", "icon": "supervised_user_circle", "description": null, "ip_access": null,
        "enforce_tfa": false, "module_list": null, "collection_list": null, "admin_access": true, "app_access": true, "users": [admin_id] });
    assert_eq!(me["role"], role);
    let files = admin.get("/files?fields=*,uploaded_by.*,folder.*").await;
    assert_eq!((files[0]["uploaded_by"]["id"].clone(), files[0]["folder"]["name"].clone(), files[0]["filename_download"].clone()), (json!(admin_id), json!("Photos"), json!("orange.png")));
    assert_eq!(admin.get("/items/articles?fields=title,author.first_name").await, json!([{ "title": "Written by Directus", "author": { "first_name": "Ada" } }]));
    let location = admin.get("/fields/directus_users/location").await;
    assert_eq!((location["meta"]["id"].clone(), location["meta"]["note"].clone(), location["meta"]["sort"].clone()), (json!(4), json!("Where they work"), Value::Null), "the stored row");
    assert_eq!(admin.get("/fields/directus_users/role").await["meta"]["system"], true);
    let author = find(&admin.get("/relations").await, |r| r["collection"] == "articles").cloned().unwrap();
    assert_eq!((author["field"].clone(), author["related_collection"].clone(), author["meta"]["id"].clone()), (json!("author"), json!("directus_users"), json!(1)));

    let editor = Api::login(&server, "editor@example.com", "editor-pw").await;
    let me = editor.get("/users/me?fields=*,role.*").await;
    assert_eq!((me["first_name"].clone(), me["role"]["name"].clone(), me["role"]["users"].clone()), (json!("Edith"), json!("Editors"), json!([editor_id])));
    assert_eq!(names(&editor.get("/presets").await, "layout"), ["cards", "tabular"]);
    assert_eq!(editor.get("/items/articles?fields=*,author.*").await, json!([{ "id": 1, "title": "Written by Directus", "author": null }]));
    assert_eq!(editor.refused("GET", "/files", None).await, (403, "FORBIDDEN".into()));
    let collections = names(&editor.get("/collections").await, "collection");
    assert_eq!(collections.len(), 10, "{collections:?}");
    assert!(collections.contains(&"articles".to_string()));
    assert_eq!(editor.get("/permissions").await.as_array().unwrap().len(), 14, "one stored, thirteen built in");
    assert!(server.stop().success());
}
