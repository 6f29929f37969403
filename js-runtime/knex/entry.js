// What the hook engine needs from knex: the instance factory, the base client and the three
// dialects Rectus serves (the engine plugs its own connection handling into them). Bundled into
// one script by crates/hooks/build.rs; evaluating it sets `globalThis.__rectusKnex`.
globalThis.__rectusKnex = {
  makeKnex: require('knex/lib/knex-builder/make-knex'),
  dialects: {
    sqlite: require('knex/lib/dialects/sqlite3'),
    postgres: require('knex/lib/dialects/postgres'),
    mysql: require('knex/lib/dialects/mysql'),
  },
};
