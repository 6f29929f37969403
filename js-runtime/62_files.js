// `services.FilesService` and `services.AssetsService`. FilesService is the ItemsService on
// directus_files plus what touches stored bytes, run by the Rust FilesService (op_rectus_files):
// importOne, and deletes that remove the stored file. `uploadOne` (a Node stream in) has no
// equivalent here. AssetsService.getAsset resolves to { file, stat, stream } where `file` is the
// directus_files row, `stat` is { size, modified: Date, type } and `stream` is an async iterable
// yielding the bytes as one Uint8Array (`for await (const chunk of stream)` works; `.pipe` doesn't).
((globalThis) => {
  const ops = Deno.core.ops;
  const rectus = globalThis.__rectus;
  const { ItemsService } = rectus.services;

  const plain = (v) => (v === undefined ? null : JSON.parse(JSON.stringify(v)));

  async function call(service, method, ...args) {
    const result = await ops.op_rectus_files({
      accountability: plain(service.accountability),
      method,
      args: args.map(plain),
      depth: service.depth,
    });
    if (result.error) throw rectus.serviceException(result.error);
    return result.ok;
  }

  class FilesService extends ItemsService {
    constructor(options = {}) {
      super('directus_files', options);
    }

    importOne(url, body) { return call(this, 'importOne', url, body ?? {}); }
    deleteOne(key, opts) { return call(this, 'deleteOne', key, opts); }
    deleteMany(keys, opts) { return call(this, 'deleteMany', keys, opts); }
    async deleteByQuery(query, opts) {
      return this.deleteMany(await this.getKeysByQuery(query), opts);
    }

    uploadOne() {
      throw new Error('FilesService.uploadOne is not available in Rectus hooks; use importOne or POST /files');
    }

    // The deprecated rc.83 name.
    import(url, body) {
      rectus.log('warn', 'FilesService.import is deprecated; use importOne');
      return this.importOne(url, body);
    }
  }

  class AssetsService {
    constructor(options = {}) {
      this.accountability = options.accountability ?? null;
      this.knex = options.knex ?? rectus.database;
      this.schema = options.schema;
      this.depth = rectus.currentDepth + 1;
    }

    async getAsset(id, transformation = {}) {
      const { file, stat, ticket } = await call(this, 'getAsset', id, transformation);
      const bytes = ops.op_rectus_take_asset(ticket);
      const stream = {
        async *[Symbol.asyncIterator]() { yield bytes; },
      };
      return { file, stat: { ...stat, modified: stat.modified ? new Date(stat.modified) : null }, stream };
    }
  }

  rectus.services.FilesService = FilesService;
  rectus.services.AssetsService = AssetsService;
})(globalThis);
