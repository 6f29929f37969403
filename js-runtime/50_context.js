// The objects hooks receive: the register context `{ services, exceptions, database, getSchema,
// env, logger }` and the extra keys of handler contexts. Pieces Rectus does not offer yet are
// placeholders that fail with a clear message when used, not when destructured.
((globalThis) => {
  const ops = Deno.core.ops;
  const rectus = globalThis.__rectus;

  const unavailable = (what) => new Error(`${what} is not available in this version of Rectus yet`);

  const serviceNames = [
    'ActivityService', 'AssetsService', 'AuthenticationService', 'CollectionsService', 'FieldsService', 'FilesService',
    'FoldersService', 'GraphQLService', 'ImportService', 'ItemsService', 'MailService', 'MetaService', 'PayloadService',
    'PermissionsService', 'PresetsService', 'RelationsService', 'RevisionsService', 'RolesService', 'ServerService',
    'SettingsService', 'SpecificationService', 'UsersService', 'UtilsService', 'WebhooksService',
  ];
  const placeholderServices = () => {
    const services = {};
    for (const name of serviceNames) {
      services[name] = { [name]: class { constructor() { throw unavailable(`services.${name}`); } } }[name];
    }
    return services;
  };

  rectus.services = rectus.services || placeholderServices();
  // getSchema() returns a fresh object on every call (hooks may mutate it), like Directus.
  rectus.getSchema = async () => JSON.parse(await ops.op_rectus_get_schema());

  // ctx.schema is shared between events of the same schema version.
  let schemaCache = { version: -1, value: undefined };
  const schemaFor = (version) => {
    if (schemaCache.version !== version) {
      const text = ops.op_rectus_schema_json();
      // Not read yet (e.g. a login before any item request): try again next time.
      if (text === null) return undefined;
      schemaCache = { version, value: JSON.parse(text) };
    }
    return schemaCache.value;
  };
  rectus.schemaFor = schemaFor;

  // What hooks start while registering (`database.schema.hasTable(...).then(...)`, getSchema(),
  // services) is waited for before the isolate takes requests (`settle_registration` in
  // crates/hooks/src/pool.rs). Until then the calls that reach Rectus's services are counted;
  // afterwards the ops are the plain ones again.
  const HOST_OPS = ['op_rectus_db_query', 'op_rectus_db_begin', 'op_rectus_db_end', 'op_rectus_get_schema', 'op_rectus_call'];
  let pending = 0;
  const idle = [];
  const plain = {};
  for (const name of HOST_OPS) {
    const op = ops[name];
    if (typeof op !== 'function') continue;
    plain[name] = op;
    ops[name] = (...args) => {
      pending += 1;
      const done = () => {
        pending -= 1;
        if (pending === 0) idle.splice(0).forEach((resolve) => resolve());
      };
      try {
        return Promise.resolve(op(...args)).finally(done);
      } catch (e) {
        done();
        throw e;
      }
    };
  }
  rectus.registrationSettled = async () => {
    // A finished call may start the next one (hasTable, then createTable): done once a turn of
    // the event loop passes with nothing pending.
    for (;;) {
      if (pending > 0) await new Promise((resolve) => idle.push(resolve));
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (pending === 0) break;
    }
    Object.assign(ops, plain);
  };

  rectus.registerContext = () => ({
    services: rectus.services,
    exceptions: rectus.exceptions,
    // A hook that takes `database` at registration will use it: knex is then evaluated once the
    // isolate takes jobs (engine.rs `warm_up`), not while the server waits for it to start.
    get database() {
      rectus.databaseWanted = true;
      return rectus.database;
    },
    getSchema: rectus.getSchema,
    env: ops.op_rectus_env(),
    logger: rectus.logger,
  });

  // Handler contexts arrive as JSON; give them the live objects JSON can't carry. `database` is
  // the request's transaction when Rust bound one to the job (55_database.js), else the pool.
  rectus.decorateContext = (ctx, schemaVersion, transaction) => {
    if (!('schema' in ctx)) {
      Object.defineProperty(ctx, 'schema', {
        get: () => schemaFor(schemaVersion),
        enumerable: true,
        configurable: true,
      });
    }
    if (!('database' in ctx)) ctx.database = transaction ? rectus.boundDatabase(transaction) : rectus.database;
  };
})(globalThis);
