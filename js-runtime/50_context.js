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

  const placeholderDatabase = () =>
    new Proxy(function database() {}, {
      apply: () => {
        throw unavailable('database (Knex)');
      },
      get: (_t, key) => {
        if (key === 'then' || typeof key === 'symbol') return undefined;
        throw unavailable(`database.${String(key)}`);
      },
    });

  rectus.services = rectus.services || placeholderServices();
  rectus.database = rectus.database || placeholderDatabase();
  rectus.getSchema = rectus.getSchema || (async () => {
    throw unavailable('getSchema()');
  });

  rectus.registerContext = () => ({
    services: rectus.services,
    exceptions: rectus.exceptions,
    database: rectus.database,
    getSchema: rectus.getSchema,
    env: ops.op_rectus_env(),
    logger: rectus.logger,
  });

  // Handler contexts arrive as JSON; give them the live objects JSON can't carry.
  rectus.decorateContext = (ctx) => {
    if (!('database' in ctx)) ctx.database = rectus.database;
  };
})(globalThis);
