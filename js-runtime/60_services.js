// `services`: every class calls its Rust counterpart through one op, `op_rectus_call`, with one
// envelope: `{service, collection, method, args, accountability, transaction, depth, upload}`
// (crates/hooks/src/services/mod.rs). The Rust services are the ones that serve HTTP: same
// permission checks for the accountability given (none for null), same events; a failure is
// thrown as the exception class of its code (20_exceptions.js).
//
// Adding a method: one line on the class here, `name(a, b) { return this._call('name', a, b); }`,
// passing every parameter (undefined travels as null), and its variant in Rust.
((globalThis) => {
  const ops = Deno.core.ops;
  const rectus = globalThis.__rectus;
  const ex = rectus.exceptions;
  rectus.currentDepth = 0;

  // JSON round trip: Dates become ISO strings, undefined disappears, as over HTTP.
  const plain = (v) => (v === undefined ? null : JSON.parse(JSON.stringify(v)));

  // One call of `method` on the Rust `service`, for the service object `on` (its collection,
  // accountability, `knex` and depth). Resolves to the result, or throws the exception.
  // `upload`: the ticket of a byte stream the call reads (62_files.js), if any.
  rectus.call = async (on, service, method, args, upload = 0) => {
    const result = await ops.op_rectus_call({
      service,
      collection: on.collection ?? null,
      method,
      args: args.map(plain),
      accountability: plain(on.accountability ?? null),
      transaction: rectus.transactionHandle(on.knex),
      depth: on.depth,
      upload,
    });
    if (result.error) throw rectus.toException(result.error);
    return result.ok;
  };

  class ItemsService {
    constructor(collection, options = {}) {
      this.collection = collection;
      this.accountability = options.accountability ?? null;
      this.knex = options.knex ?? rectus.database;
      this.schema = options.schema;
      this.eventScope = collection.startsWith('directus_') ? collection.slice(9) : 'items';
      // Hooks create services synchronously in their handler; that handler's depth + 1.
      this.depth = rectus.currentDepth + 1;
    }

    _call(method, ...args) {
      return rectus.call(this, 'ItemsService', method, args);
    }

    createOne(data, opts) { return this._call('createOne', data, opts); }
    createMany(data, opts) { return this._call('createMany', data, opts); }
    // The options of reads (`stripNonRequested`, `permissionsAction`) are not used by Rectus.
    readByQuery(query = {}) { return this._call('readByQuery', query); }
    readOne(key, query = {}) { return this._call('readOne', key, query); }
    readMany(keys, query = {}) { return this._call('readMany', keys, query); }
    updateOne(key, data, opts) { return this._call('updateOne', key, data, opts); }
    updateMany(keys, data, opts) { return this._call('updateMany', keys, data, opts); }
    updateByQuery(query, data, opts) { return this._call('updateByQuery', query, data, opts); }
    upsertOne(payload, opts) { return this._call('upsertOne', payload, opts); }
    async upsertMany(payloads, opts) {
      const keys = [];
      for (const p of payloads) keys.push(await this.upsertOne(p, opts));
      return keys;
    }
    deleteOne(key, opts) { return this._call('deleteOne', key, opts); }
    deleteMany(keys, opts) { return this._call('deleteMany', keys, opts); }
    deleteByQuery(query, opts) { return this._call('deleteByQuery', query, opts); }
    readSingleton(query = {}) { return this._call('readSingleton', query); }
    upsertSingleton(data, opts) { return this._call('upsertSingleton', data, opts); }
    getKeysByQuery(query) { return this._call('getKeysByQuery', query); }

    // The deprecated rc.51-era names, still present in rc.83 (with a warning).
    create(data, opts) {
      rectus.log('warn', 'ItemsService.create is deprecated; use createOne/createMany');
      return Array.isArray(data) ? this.createMany(data, opts) : this.createOne(data, opts);
    }
    readByKey(key, query = {}) {
      return Array.isArray(key) ? this.readMany(key, query) : this.readOne(key, query);
    }
    async update(data, key, opts) {
      if (key !== undefined && key !== null) return Array.isArray(key) ? this.updateMany(key, data, opts) : this.updateOne(key, data, opts);
      const schema = await rectus.getSchema();
      const primary = schema.collections[this.collection]?.primary;
      const items = Array.isArray(data) ? data : [data];
      const keys = [];
      for (const item of items) {
        if (item[primary] === undefined) throw new ex.InvalidPayloadException('Primary key is missing in update payload.');
        const { [primary]: pk, ...rest } = item;
        keys.push(await this.updateOne(pk, rest, opts));
      }
      return Array.isArray(data) ? keys : keys[0];
    }
    upsert(data, opts) {
      return Array.isArray(data) ? this.upsertMany(data, opts) : this.upsertOne(data, opts);
    }
    delete(key, opts) {
      return Array.isArray(key) ? this.deleteMany(key, opts) : this.deleteOne(key, opts);
    }
  }

  rectus.services.ItemsService = ItemsService;

  // Services that are not an ItemsService: the Rust service of the class's `serviceName`.
  class RustService {
    constructor(options = {}) {
      this.accountability = options.accountability ?? null;
      this.knex = options.knex ?? rectus.database;
      this.schema = options.schema;
      this.depth = rectus.currentDepth + 1;
    }

    _call(method, ...args) {
      return rectus.call(this, this.constructor.serviceName, method, args);
    }
  }

  // Collections: `readByQuery` takes no query (as in Directus); writes need an admin.
  class CollectionsService extends RustService {
    static serviceName = 'CollectionsService';
    createOne(raw) { return this._call('createOne', raw); }
    async createMany(raws) {
      const names = [];
      for (const raw of raws) names.push(await this.createOne(raw));
      return names;
    }
    readByQuery() { return this._call('readByQuery'); }
    readOne(name) { return this._call('readOne', name); }
    async readMany(names) {
      return (await this.readByQuery()).filter((c) => names.includes(c.collection));
    }
    updateOne(name, data) { return this._call('updateOne', name, data); }
    async updateMany(names, data) {
      for (const name of names) await this.updateOne(name, data);
      return names;
    }
    deleteOne(name) { return this._call('deleteOne', name); }
    async deleteMany(names) {
      for (const name of names) await this.deleteOne(name);
      return names;
    }
    create(data) { return Array.isArray(data) ? this.createMany(data) : this.createOne(data); }
    readByKey(key) { return Array.isArray(key) ? this.readMany(key) : this.readOne(key); }
    update(data, key) { return Array.isArray(key) ? this.updateMany(key, data) : this.updateOne(key, data); }
    delete(key) { return Array.isArray(key) ? this.deleteMany(key) : this.deleteOne(key); }
  }

  class FieldsService extends RustService {
    static serviceName = 'FieldsService';
    readAll(collection) { return this._call('readAll', collection ?? null); }
    readOne(collection, field) { return this._call('readOne', collection, field); }
    createField(collection, field) { return this._call('createField', collection, field); }
    updateField(collection, field) { return this._call('updateField', collection, field); }
    deleteField(collection, field) { return this._call('deleteField', collection, field); }

    // `addColumnToTable(table, field, alter?)`: `table` is a knex table builder (the callback
    // argument of `database.schema.createTable/alterTable`), so the column is declared on it
    // synchronously as Directus declares it, and knex writes the DDL of the dialect.
    addColumnToTable(table, field, alter = null) {
      const schema = field.schema ?? {};
      let column;
      if (schema.has_auto_increment) column = table.increments(field.field);
      else if (field.type === 'string') column = table.string(field.field, schema.max_length ?? undefined);
      else if (field.type === 'float' || field.type === 'decimal') column = table[field.type](field.field, schema.numeric_precision || 10, schema.numeric_scale || 5);
      else if (field.type === 'csv') column = table.string(field.field);
      else if (field.type === 'hash') column = table.string(field.field, 255);
      else column = table[field.type](field.field);
      const fallback = schema.default_value;
      if (typeof fallback === 'string' && fallback.toLowerCase() === 'now()') column.defaultTo(this.knex.fn.now());
      else if (typeof fallback === 'string' && ['null', '"null"'].includes(fallback.toLowerCase())) column.defaultTo(null);
      else if (fallback !== undefined) column.defaultTo(fallback);
      if (schema.is_nullable === false) column.notNullable();
      else column.nullable();
      if (schema.is_primary_key) column.primary();
      if (schema.is_unique === true && (!alter || alter.is_unique === false)) column.unique();
      else if (schema.is_unique === false && alter?.is_unique === true) table.dropUnique([field.field]);
      if (alter) column.alter();
    }
  }

  class RelationsService extends RustService {
    static serviceName = 'RelationsService';
    readAll(collection) { return this._call('readAll', collection ?? null); }
    readOne(collection, field) { return this._call('readOne', collection, field); }
    createOne(relation) { return this._call('createOne', relation); }
    updateOne(collection, field, relation) { return this._call('updateOne', collection, field, relation); }
    deleteOne(collection, field) { return this._call('deleteOne', collection, field); }
  }

  class MetaService extends RustService {
    static serviceName = 'MetaService';
    getMetaForQuery(collection, query = {}) { return this._call('getMetaForQuery', collection, query); }
    totalCount(collection) { return this._call('totalCount', collection, {}); }
    filterCount(collection, query = {}) { return this._call('filterCount', collection, query); }
  }

  class ServerService extends RustService {
    static serviceName = 'ServerService';
    serverInfo() { return this._call('serverInfo'); }
    health() { return this._call('health'); }
  }

  // `authenticate({email, password, otp, ip, userAgent})` → `{accessToken, refreshToken, expires, id}`.
  class AuthenticationService extends RustService {
    static serviceName = 'AuthenticationService';
    authenticate(options) { return this._call('authenticate', options); }
    refresh(refreshToken) { return this._call('refresh', refreshToken); }
    logout(refreshToken) { return this._call('logout', refreshToken); }
    generateTFASecret() { return this._call('generateTFASecret'); }
    generateOTPAuthURL(pk, secret) { return this._call('generateOTPAuthURL', pk, secret); }
    verifyOTP(pk, otp, secret) { return this._call('verifyOTP', pk, otp, secret ?? null); }
    verifyPassword(pk, password) { return this._call('verifyPassword', pk, password); }
  }

  // `processValues(action, payload | payloads)`: the special-field transforms of §4.5.
  class PayloadService extends RustService {
    static serviceName = 'PayloadService';
    constructor(collection, options = {}) {
      super(options);
      this.collection = collection;
    }
    processValues(action, payload) { return this._call('processValues', action, payload); }
    processM2O(data) { return this._call('processM2O', data); }
    processA2O(data) { return this._call('processA2O', data); }
    processO2M(data, parentPk) { return this._call('processO2M', data, parentPk); }
    processDates(payloads, action) { return this._call('processDates', payloads, action); }
  }

  // `oas.generate()` is the OpenAPI document of `/server/specs/oas`, `graphql.generate(scope)`
  // the GraphQL schema's SDL of `/server/specs/graphql/:scope`.
  class SpecificationService extends RustService {
    static serviceName = 'SpecificationService';
    constructor(options = {}) {
      super(options);
      this.oas = { generate: () => this._call('oas') };
      this.graphql = { generate: (scope = 'items') => this._call('graphql', scope) };
    }
  }

  // A document is GraphQL text, or a graphql-js DocumentNode (its source text is used).
  const documentText = (document) => {
    if (typeof document === 'string') return document;
    const body = document?.loc?.source?.body;
    if (typeof body === 'string') return body;
    throw new TypeError('GraphQLService.execute: "document" must be GraphQL text or a parsed document with its source location');
  };

  // `execute({document, variables, operationName})` answers `{data, errors?}`; an invalid document
  // throws GraphQLValidationException. `getSchema()` is the schema as SDL text (Rectus has no
  // graphql-js schema object to give).
  class GraphQLService extends RustService {
    static serviceName = 'GraphQLService';
    constructor(options = {}) {
      super(options);
      this.scope = options.scope ?? 'items';
    }
    execute({ document, variables, operationName } = {}) {
      return this._call('execute', this.scope, { document: documentText(document), variables: variables ?? null, operationName: operationName ?? null });
    }
    getSchema() { return this._call('getSchema', this.scope); }
  }

  // The `Date` scalar of the GraphQL schemas, as rc.83 exports it next to the services.
  const GraphQLDate = {
    name: 'Date',
    description: 'ISO8601 Date values',
    serialize: (value) => (value instanceof Date ? value.toISOString() : value == null ? value : String(value)),
    parseValue: (value) => value,
    parseLiteral: (ast) => (ast && ast.kind === 'StringValue' ? ast.value : undefined),
    toString: () => 'Date',
  };

  class UtilsService extends RustService {
    static serviceName = 'UtilsService';
    sort(collection, { item, to }) { return this._call('sort', collection, { item, to }); }
  }

  // `import(collection, mimetype, data)`: data is the file's text (a string or a Buffer), not a stream.
  class ImportService extends RustService {
    static serviceName = 'ImportService';
    import(collection, mimetype, data) { return this._call('import', collection, mimetype, String(data)); }
  }

  Object.assign(rectus.services, { CollectionsService, FieldsService, RelationsService, MetaService, ServerService, AuthenticationService, UtilsService, ImportService, PayloadService, SpecificationService, GraphQLService, GraphQLDate });
  // For the services defined in later files (62_files.js, 65_mail.js).
  rectus.RustService = RustService;
  const systemServices = {
    ActivityService: 'directus_activity',
    FoldersService: 'directus_folders',
    PermissionsService: 'directus_permissions',
    PresetsService: 'directus_presets',
    RevisionsService: 'directus_revisions',
    RolesService: 'directus_roles',
    SettingsService: 'directus_settings',
    UsersService: 'directus_users',
    WebhooksService: 'directus_webhooks',
  };
  for (const [name, table] of Object.entries(systemServices)) {
    rectus.services[name] = { [name]: class extends ItemsService {
      constructor(options = {}) {
        super(table, options);
      }
    } }[name];
  }

  // The account flows and two-factor setup of UsersService run in Rust
  // (crates/core/src/auth/{invites,password_reset,tfa}.rs).
  const accountFlows = {
    async inviteUser(email, role, url, subject) { await rectus.call(this, 'UsersService', 'inviteUser', [email, role, url, subject]); },
    async acceptInvite(token, password) { await rectus.call(this, 'UsersService', 'acceptInvite', [token, password]); },
    async requestPasswordReset(email, url) { await rectus.call(this, 'UsersService', 'requestPasswordReset', [email, url]); },
    async resetPassword(token, password) { await rectus.call(this, 'UsersService', 'resetPassword', [token, password]); },
    generateTFA(pk) { return rectus.call(this, 'UsersService', 'generateTFA', [pk]); },
    async enableTFA(pk, otp, secret) { await rectus.call(this, 'UsersService', 'enableTFA', [pk, otp, secret]); },
    async disableTFA(pk) { await rectus.call(this, 'UsersService', 'disableTFA', [pk]); },
  };
  Object.assign(rectus.services.UsersService.prototype, accountFlows);
  rectus.services.PermissionsService.prototype.getAllowedFields = function (action, collection) {
    return rectus.call(this, 'PermissionsService', 'getAllowedFields', [action, collection ?? null]);
  };
  rectus.services.RevisionsService.prototype.revert = async function (pk) {
    await rectus.call(this, 'RevisionsService', 'revert', [pk]);
  };
})(globalThis);
