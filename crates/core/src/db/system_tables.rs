//! The `directus_*` system tables of Directus rc.83 (spec §8.1, §8.2), described once and turned
//! into each engine's DDL by sea-query. Column types follow what knex produced for Directus:
//! `serial` ids and `uuid`/`timestamptz`/`json` on PostgreSQL, `char(36)`/`timestamp`/`json` on
//! MySQL, and `char(36)`/`datetime`/`text` on SQLite — so either server can run on the other's database.

use sea_query::{Alias, ColumnDef, Expr, ForeignKey, ForeignKeyAction, Table, TableCreateStatement};

use crate::config::DbClient;

#[derive(Clone, Copy)]
enum Kind {
    Increments,
    Uuid,
    String(u32),
    Text,
    Integer,
    BigInteger,
    Boolean,
    Json,
    Timestamp,
}

/// Default of a column, as the seed data gives it.
#[derive(Clone, Copy)]
enum Default {
    None,
    Bool(bool),
    Int(i64),
    Str(&'static str),
    Now,
}

struct Col {
    name: &'static str,
    kind: Kind,
    not_null: bool,
    default: Default,
}

struct Fk {
    column: &'static str,
    table: &'static str,
    column_to: &'static str,
    on_delete: Option<ForeignKeyAction>,
}

pub struct SystemTable {
    pub name: &'static str,
    pub primary: &'static str,
    cols: Vec<Col>,
    fks: Vec<Fk>,
    unique: &'static [&'static str],
}

fn c(name: &'static str, kind: Kind) -> Col {
    Col { name, kind, not_null: false, default: Default::None }
}

impl Col {
    fn nn(mut self) -> Col {
        self.not_null = true;
        self
    }
    fn def(mut self, d: Default) -> Col {
        self.default = d;
        self
    }
}

fn fk(column: &'static str, table: &'static str, on_delete: Option<ForeignKeyAction>) -> Fk {
    Fk { column, table, column_to: "id", on_delete }
}

use Kind::*;

/// All system tables in creation order (referenced tables first).
pub fn tables() -> Vec<SystemTable> {
    use ForeignKeyAction::{Cascade, SetNull};
    vec![
        SystemTable {
            name: "directus_roles",
            primary: "id",
            cols: vec![
                c("id", Uuid).nn(),
                c("name", String(100)).nn(),
                c("icon", String(30)).nn().def(Default::Str("supervised_user_circle")),
                c("description", Text),
                c("ip_access", Text),
                c("enforce_tfa", Boolean).nn().def(Default::Bool(false)),
                c("module_list", Json),
                c("collection_list", Json),
                c("admin_access", Boolean).nn().def(Default::Bool(false)),
                c("app_access", Boolean).nn().def(Default::Bool(true)),
            ],
            fks: vec![],
            unique: &[],
        },
        SystemTable {
            name: "directus_users",
            primary: "id",
            cols: vec![
                c("id", Uuid).nn(),
                c("first_name", String(50)),
                c("last_name", String(50)),
                c("email", String(128)).nn(),
                c("password", String(255)),
                c("location", String(255)),
                c("title", String(50)),
                c("description", Text),
                c("tags", Json),
                c("avatar", Uuid),
                c("language", String(8)).def(Default::Str("en-US")),
                c("theme", String(20)).def(Default::Str("auto")),
                c("tfa_secret", String(255)),
                c("status", String(16)).nn().def(Default::Str("active")),
                c("role", Uuid),
                c("token", String(255)),
                c("last_access", Timestamp),
                c("last_page", String(255)),
            ],
            fks: vec![fk("role", "directus_roles", Some(SetNull))],
            unique: &["email"],
        },
        SystemTable {
            name: "directus_folders",
            primary: "id",
            cols: vec![c("id", Uuid).nn(), c("name", String(255)).nn(), c("parent", Uuid)],
            fks: vec![fk("parent", "directus_folders", None)],
            unique: &[],
        },
        SystemTable {
            name: "directus_files",
            primary: "id",
            cols: vec![
                c("id", Uuid).nn(),
                c("storage", String(255)).nn(),
                c("filename_disk", String(255)),
                c("filename_download", String(255)).nn(),
                c("title", String(255)),
                c("type", String(255)),
                c("folder", Uuid),
                c("uploaded_by", Uuid),
                c("uploaded_on", Timestamp).nn().def(Default::Now),
                c("modified_by", Uuid),
                c("modified_on", Timestamp).nn().def(Default::Now),
                c("charset", String(50)),
                c("filesize", BigInteger),
                c("width", Integer),
                c("height", Integer),
                c("duration", Integer),
                c("embed", String(200)),
                c("description", Text),
                c("location", Text),
                c("tags", Text),
                c("metadata", Json),
            ],
            fks: vec![
                fk("folder", "directus_folders", Some(SetNull)),
                fk("uploaded_by", "directus_users", None),
                fk("modified_by", "directus_users", None),
            ],
            unique: &[],
        },
        SystemTable {
            name: "directus_settings",
            primary: "id",
            cols: vec![
                c("id", Increments).nn(),
                c("project_name", String(100)).nn().def(Default::Str("Directus")),
                c("project_url", String(255)),
                c("project_color", String(10)).def(Default::Str("#00C897")),
                c("project_logo", Uuid),
                c("public_foreground", Uuid),
                c("public_background", Uuid),
                c("public_note", Text),
                c("auth_login_attempts", Integer).def(Default::Int(25)),
                c("auth_password_policy", String(100)),
                c("storage_asset_transform", String(7)).def(Default::Str("all")),
                c("storage_asset_presets", Json),
                c("custom_css", Text),
            ],
            fks: vec![
                fk("project_logo", "directus_files", None),
                fk("public_foreground", "directus_files", None),
                fk("public_background", "directus_files", None),
            ],
            unique: &[],
        },
        SystemTable {
            name: "directus_collections",
            primary: "collection",
            cols: vec![
                c("collection", String(64)).nn(),
                c("icon", String(30)),
                c("note", Text),
                c("display_template", String(255)),
                c("hidden", Boolean).nn().def(Default::Bool(false)),
                c("singleton", Boolean).nn().def(Default::Bool(false)),
                c("translations", Json),
                c("archive_field", String(64)),
                c("archive_app_filter", Boolean).nn().def(Default::Bool(true)),
                c("archive_value", String(255)),
                c("unarchive_value", String(255)),
                c("sort_field", String(64)),
                c("accountability", String(255)).def(Default::Str("all")),
                c("color", String(255)),
                c("item_duplication_fields", Json),
            ],
            fks: vec![],
            unique: &[],
        },
        SystemTable {
            name: "directus_fields",
            primary: "id",
            cols: vec![
                c("id", Increments).nn(),
                c("collection", String(64)).nn(),
                c("field", String(64)).nn(),
                c("special", String(64)),
                c("interface", String(64)),
                c("options", Json),
                c("display", String(64)),
                c("display_options", Json),
                c("readonly", Boolean).nn().def(Default::Bool(false)),
                c("hidden", Boolean).nn().def(Default::Bool(false)),
                c("sort", Integer),
                c("width", String(30)).def(Default::Str("full")),
                c("group", Integer),
                c("translations", Json),
                c("note", Text),
            ],
            fks: vec![fk("group", "directus_fields", None)],
            unique: &[],
        },
        SystemTable {
            name: "directus_activity",
            primary: "id",
            cols: vec![
                c("id", Increments).nn(),
                c("action", String(45)).nn(),
                c("user", Uuid),
                c("timestamp", Timestamp).nn().def(Default::Now),
                c("ip", String(50)).nn(),
                c("user_agent", String(255)),
                c("collection", String(64)).nn(),
                c("item", String(255)).nn(),
                c("comment", Text),
            ],
            fks: vec![],
            unique: &[],
        },
        SystemTable {
            name: "directus_revisions",
            primary: "id",
            cols: vec![
                c("id", Increments).nn(),
                c("activity", Integer).nn(),
                c("collection", String(64)).nn(),
                c("item", String(255)).nn(),
                c("data", Json),
                c("delta", Json),
                c("parent", Integer),
            ],
            fks: vec![fk("activity", "directus_activity", Some(Cascade)), fk("parent", "directus_revisions", None)],
            unique: &[],
        },
        SystemTable {
            name: "directus_permissions",
            primary: "id",
            cols: vec![
                c("id", Increments).nn(),
                c("role", Uuid),
                c("collection", String(64)).nn(),
                c("action", String(10)).nn(),
                c("permissions", Json),
                c("validation", Json),
                c("presets", Json),
                c("fields", Text),
                c("limit", Integer),
            ],
            fks: vec![fk("role", "directus_roles", Some(Cascade))],
            unique: &[],
        },
        SystemTable {
            name: "directus_presets",
            primary: "id",
            cols: vec![
                c("id", Increments).nn(),
                c("bookmark", String(255)),
                c("user", Uuid),
                c("role", Uuid),
                c("collection", String(64)),
                c("search", String(100)),
                c("filters", Json),
                c("layout", String(100)).def(Default::Str("tabular")),
                c("layout_query", Json),
                c("layout_options", Json),
                c("refresh_interval", Integer),
            ],
            fks: vec![fk("user", "directus_users", Some(Cascade)), fk("role", "directus_roles", Some(Cascade))],
            unique: &[],
        },
        SystemTable {
            name: "directus_relations",
            primary: "id",
            cols: vec![
                c("id", Increments).nn(),
                c("many_collection", String(64)).nn(),
                c("many_field", String(64)).nn(),
                c("one_collection", String(64)),
                c("one_field", String(64)),
                c("one_collection_field", String(64)),
                c("one_allowed_collections", Text),
                c("junction_field", String(64)),
                c("sort_field", String(64)),
                c("one_deselect_action", String(255)).nn().def(Default::Str("nullify")),
            ],
            fks: vec![],
            unique: &[],
        },
        SystemTable {
            name: "directus_sessions",
            primary: "token",
            cols: vec![
                c("token", String(64)).nn(),
                c("user", Uuid).nn(),
                c("expires", Timestamp).nn(),
                c("ip", String(255)),
                c("user_agent", String(255)),
            ],
            fks: vec![fk("user", "directus_users", Some(Cascade))],
            unique: &[],
        },
        SystemTable {
            name: "directus_webhooks",
            primary: "id",
            cols: vec![
                c("id", Increments).nn(),
                c("name", String(255)).nn(),
                c("method", String(10)).nn().def(Default::Str("POST")),
                c("url", Text),
                c("status", String(10)).nn().def(Default::Str("active")),
                c("data", Boolean).nn().def(Default::Bool(true)),
                c("actions", String(100)).nn(),
                c("collections", Text),
            ],
            fks: vec![],
            unique: &[],
        },
        SystemTable {
            name: "directus_migrations",
            primary: "version",
            cols: vec![
                c("version", String(255)).nn(),
                c("name", String(255)).nn(),
                c("timestamp", Timestamp).def(Default::Now),
            ],
            fks: vec![],
            unique: &[],
        },
    ]
}

/// The table whose presence tells that a database is installed (as Directus checks it).
pub const INSTALLED_MARKER: &str = "directus_collections";

impl SystemTable {
    pub fn create_statement(&self, client: DbClient) -> TableCreateStatement {
        let mut t = Table::create();
        t.table(Alias::new(self.name));
        for col in &self.cols {
            let mut def = ColumnDef::new(Alias::new(col.name));
            match (col.kind, client) {
                (Increments, _) => {
                    def.integer().auto_increment().primary_key();
                }
                (Uuid, DbClient::Postgres) => {
                    def.uuid();
                }
                (Uuid, _) => {
                    def.char_len(36);
                }
                (String(n), _) => {
                    def.string_len(n);
                }
                (Text, _) => {
                    def.text();
                }
                (Integer, _) => {
                    def.integer();
                }
                (BigInteger, _) => {
                    def.big_integer();
                }
                (Boolean, _) => {
                    def.boolean();
                }
                (Json, DbClient::Sqlite) => {
                    def.text();
                }
                (Json, _) => {
                    def.json();
                }
                (Timestamp, DbClient::Postgres) => {
                    def.timestamp_with_time_zone();
                }
                (Timestamp, DbClient::MySql) => {
                    def.custom(Alias::new("timestamp NULL"));
                }
                (Timestamp, DbClient::Sqlite) => {
                    def.custom(Alias::new("datetime"));
                }
            }
            if col.not_null {
                def.not_null();
            }
            if col.name == self.primary && !matches!(col.kind, Increments) {
                def.primary_key();
            }
            match col.default {
                Default::None => {}
                Default::Bool(b) => {
                    def.default(b);
                }
                Default::Int(i) => {
                    def.default(i);
                }
                Default::Str(s) => {
                    def.default(s);
                }
                Default::Now => {
                    def.default(Expr::current_timestamp());
                }
            }
            if self.unique.contains(&col.name) {
                def.unique_key();
            }
            t.col(def);
        }
        for f in &self.fks {
            let mut key = ForeignKey::create();
            key.name(format!("{}_{}_foreign", self.name, f.column))
                .from(Alias::new(self.name), Alias::new(f.column))
                .to(Alias::new(f.table), Alias::new(f.column_to));
            if let Some(action) = f.on_delete {
                key.on_delete(action);
            }
            t.foreign_key(&mut key);
        }
        t
    }
}
