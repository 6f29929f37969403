// `database`: a real knex instance (the npm package, bundled by crates/hooks/build.rs) whose
// client hands every statement to Rust (crates/hooks/src/database.rs), which runs it through
// sqlx on the pool or on a transaction. knex is evaluated on first use, or right after the
// isolate is ready if a hook took `database` at registration (engine.rs `warm_up`); hooks that
// never touch it don't pay for it, and start-up never waits for it.
//
// Decisions:
// - Rust owns the pool; a JS "connection" is `{ handle }`, 0 meaning the pool.
// - knex's BEGIN/COMMIT/ROLLBACK open and end a Rust transaction. On a handle bound to the
//   request's transaction (`ctx.database` in `items.create.before`) they become a savepoint,
//   its release and a rollback to it, so a hook can't end the request's transaction.
// - Results have knex's usual shapes per dialect, with values as the Node drivers give them
//   (`asDriverValues` below): on PostgreSQL `bigint` (and `count()`) and `numeric` as strings,
//   timestamps and dates as Dates (node-pg); on MySQL dates and datetimes as Dates (mysql2); on
//   SQLite what is stored (sqlite3). The README says the same.
// - Transaction isolation levels and `.stream()` are not supported.
((globalThis) => {
  const ops = Deno.core.ops;
  const rectus = globalThis.__rectus;

  let bundle;
  const knexLib = () => {
    if (!bundle) {
      const [run, error] = Deno.core.compileFunction(ops.op_rectus_knex_source(), 'rectus:knex.js', undefined, []);
      if (error) throw error.thrown;
      run();
      bundle = globalThis.__rectusKnex;
      delete globalThis.__rectusKnex;
    }
    return bundle;
  };

  // Called once the isolate takes jobs (engine.rs `warm_up`).
  rectus.warmUp = () => {
    if (!rectus.databaseWanted) return;
    try {
      knexLib();
    } catch (e) {
      rectus.log('warn', 'Could not load knex for `database`:', e);
    }
  };

  const BEGIN = /^(BEGIN|START TRANSACTION)\b/i;
  const COMMIT = /^COMMIT;?$/i;
  const ROLLBACK = /^ROLLBACK;?$/i;
  const READS = /^(SELECT|WITH|PRAGMA|SHOW|EXPLAIN|DESCRIBE|VALUES)\b/i;
  let savepoints = 0;

  const pad = (n, w = 2) => String(n).padStart(w, '0');
  const mysqlDate = (d) =>
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`;

  function toParam(value, dialect) {
    if (value === undefined) return null;
    if (value instanceof Date) return dialect === 'mysql' ? mysqlDate(value) : value.toISOString();
    if (typeof value === 'bigint') return value.toString();
    if (value !== null && typeof value === 'object') return JSON.stringify(value);
    return value;
  }

  const empty = { rows: [], columns: [], columnTypes: [], rowsAffected: 0, lastInsertId: null };

  // The response object each dialect's stock `processResponse` expects from its driver.
  function shape(dialect, obj, sql, res) {
    const read = READS.test(sql) || res.rows.length > 0;
    if (dialect === 'sqlite') {
      obj.response = res.rows;
      obj.context = { lastID: res.lastInsertId, changes: res.rowsAffected };
    } else if (dialect === 'postgres') {
      const word = sql.split(/\s/, 1)[0].toUpperCase();
      const command = word === 'WITH' || word === 'VALUES' ? 'SELECT' : word;
      const fields = res.columns.map((name) => ({ name }));
      obj.response = { command, rowCount: read ? res.rows.length : res.rowsAffected, rows: res.rows, fields };
    } else {
      const fields = res.columns.map((name) => ({ name }));
      obj.response = read
        ? [res.rows, fields]
        : [{ affectedRows: res.rowsAffected, insertId: res.lastInsertId ?? 0, changedRows: res.rowsAffected }, undefined];
    }
    return obj;
  }

  // Values as the Node drivers handed them to knex: node-pg gives int8 as text and timestamps and
  // dates as Date objects (a date at local midnight), mysql2 gives dates and datetimes as Date
  // objects; sqlite3 gives what is stored. Rust sends JSON, so the columns' types say what to revive.
  const localMidnight = (d) => new Date(`${d}T00:00:00`);
  const revivers = {
    postgres: { INT8: String, TIMESTAMPTZ: (v) => new Date(v), TIMESTAMP: (v) => new Date(v), DATE: localMidnight },
    mysql: { DATETIME: (v) => new Date(v), TIMESTAMP: (v) => new Date(v), DATE: localMidnight },
  };
  function asDriverValues(res, dialect) {
    const table = revivers[dialect];
    if (!table) return res;
    res.columns.forEach((name, i) => {
      const revive = table[res.columnTypes[i]];
      if (!revive) return;
      for (const row of res.rows) if (row[name] !== null && row[name] !== undefined) row[name] = revive(row[name]);
    });
    return res;
  }

  const run = async (handle, sql, bindings, dialect) => {
    const res = JSON.parse(await ops.op_rectus_db_query(handle, sql, JSON.stringify((bindings || []).map((b) => toParam(b, dialect)))));
    return asDriverValues(res, dialect);
  };

  const clientClasses = {};
  function clientClass(dialect) {
    if (clientClasses[dialect]) return clientClasses[dialect];
    const Base = knexLib().dialects[dialect];
    class RectusClient extends Base {
      _driver() {
        return {};
      }
      initializePool() {}
      async acquireConnection() {
        const { handle = 0, bound = false } = this.connectionSettings;
        return { handle, bound };
      }
      async releaseConnection(conn) {
        // A transaction knex gave up on without COMMIT/ROLLBACK (e.g. a failed BEGIN).
        if (!conn.bound && conn.handle) {
          const handle = conn.handle;
          conn.handle = 0;
          await ops.op_rectus_db_end(handle, false).catch(() => {});
        }
      }
      async destroy(callback) {
        if (typeof callback === 'function') callback();
      }
      _stream() {
        throw new Error('database .stream() is not supported by Rectus');
      }
      async _query(conn, obj) {
        if (!obj || typeof obj === 'string') obj = { sql: obj };
        const sql = obj.sql.trim();
        // Inside knex transactions `this` is the transaction's client; services read the handle here.
        this.rectusConnection = conn;
        if (BEGIN.test(sql)) {
          if (conn.bound) {
            conn.savepoint = `rectus_sp${++savepoints}`;
            await run(conn.handle, `SAVEPOINT ${conn.savepoint}`, [], dialect);
          } else {
            conn.handle = await ops.op_rectus_db_begin();
          }
          return shape(dialect, obj, sql, empty);
        }
        if (COMMIT.test(sql) || ROLLBACK.test(sql)) {
          const commit = COMMIT.test(sql);
          if (conn.bound) {
            if (conn.savepoint) {
              const statement = commit ? `RELEASE SAVEPOINT ${conn.savepoint}` : `ROLLBACK TO SAVEPOINT ${conn.savepoint}`;
              conn.savepoint = undefined;
              await run(conn.handle, statement, [], dialect);
            }
          } else if (conn.handle) {
            const handle = conn.handle;
            conn.handle = 0;
            await ops.op_rectus_db_end(handle, commit);
          }
          return shape(dialect, obj, sql, empty);
        }
        return shape(dialect, obj, sql, await run(conn.handle, obj.sql, obj.bindings, dialect));
      }
    }
    clientClasses[dialect] = RectusClient;
    return RectusClient;
  }

  const versions = { sqlite: '3', postgres: '13', mysql: '8' };
  function makeKnex(connection) {
    const dialect = ops.op_rectus_db_client();
    const Client = clientClass(dialect);
    // `filename` only silences the sqlite dialect's check; Rust holds the real connection.
    const client = new Client({ client: dialect, version: versions[dialect], connection: { filename: 'rectus', ...connection }, useNullAsDefault: true });
    return knexLib().makeKnex(client);
  }

  // Stands in for a knex instance until something uses it. Probes that don't need knex
  // (awaiting it, JSON.stringify, inspectors) don't load it.
  function lazyKnex(make) {
    let real;
    const get = () => (real ||= make());
    return new Proxy(function database() {}, {
      apply: (_target, thisArg, args) => Reflect.apply(get(), thisArg, args),
      get: (_target, key) => {
        if (!real && (typeof key === 'symbol' || key === 'then' || key === 'toJSON' || key === 'inspect')) return undefined;
        return get()[key];
      },
      set: (_target, key, value) => {
        get()[key] = value;
        return true;
      },
      has: (_target, key) => key in get(),
    });
  }

  const boundHandles = new WeakMap();
  rectus.database = lazyKnex(() => makeKnex({}));

  // `database` of a context bound to the Rust transaction `handle`.
  rectus.boundDatabase = (handle) => {
    const database = lazyKnex(() => {
      const instance = makeKnex({ handle, bound: true });
      instance.isTransaction = true;
      return instance;
    });
    boundHandles.set(database, handle);
    return database;
  };

  // The transaction handle behind a service's `knex` option: a bound context database, a
  // transaction a hook opened with `database.transaction()`, or 0 for the pool.
  rectus.transactionHandle = (knex) => {
    if (!knex) return 0;
    if (boundHandles.has(knex)) return boundHandles.get(knex);
    if (knex === rectus.database || !knex.isTransaction) return 0;
    return knex.client?.rectusConnection?.handle ?? 0;
  };
})(globalThis);
