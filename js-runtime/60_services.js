// `services.ItemsService` and the system services built on it. Every method runs the Rust
// ItemsService that serves HTTP (op_rectus_items): same permission checks for the accountability
// given (none for null), same events, and failures thrown as the matching exception class.
((globalThis) => {
  const ops = Deno.core.ops;
  const rectus = globalThis.__rectus;
  const ex = rectus.exceptions;
  rectus.currentDepth = 0;

  const byCode = {
    FORBIDDEN: ex.ForbiddenException,
    INVALID_PAYLOAD: ex.InvalidPayloadException,
    INVALID_QUERY: ex.InvalidQueryException,
    INVALID_CREDENTIALS: ex.InvalidCredentialsException,
    SERVICE_UNAVAILABLE: ex.ServiceUnavailableException,
    UNPROCESSABLE_ENTITY: ex.UnprocessableEntityException,
  };

  function toException(e) {
    if (e.internal) return new Error(e.message);
    const Class = byCode[e.code];
    if (Class === ex.ForbiddenException) return new ex.ForbiddenException();
    if (Class) return new Class(e.message, e.extensions);
    return new ex.BaseException(e.message, e.status, e.code, e.extensions);
  }

  // JSON round trip: Dates become ISO strings, undefined disappears, as over HTTP.
  const plain = (v) => (v === undefined ? null : JSON.parse(JSON.stringify(v)));

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

    async _call(method, ...args) {
      const result = await ops.op_rectus_items({
        collection: this.collection,
        accountability: plain(this.accountability),
        transaction: rectus.transactionHandle(this.knex),
        method,
        args: args.map(plain),
        depth: this.depth,
      });
      if (result.error) throw toException(result.error);
      return result.ok;
    }

    createOne(data, opts) { return this._call('createOne', data, opts); }
    createMany(data, opts) { return this._call('createMany', data, opts); }
    readByQuery(query = {}, opts) { return this._call('readByQuery', query, opts); }
    readOne(key, query = {}, opts) { return this._call('readOne', key, query, opts); }
    readMany(keys, query = {}, opts) { return this._call('readMany', keys, query, opts); }
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
    readSingleton(query = {}, opts) { return this._call('readSingleton', query, opts); }
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
  rectus.serviceException = toException;
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
})(globalThis);
