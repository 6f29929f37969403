// `services.FilesService` and `services.AssetsService`. FilesService is the ItemsService on
// directus_files plus what touches stored bytes, run by the Rust FilesService (through
// `rectus.call`, 60_services.js): importOne, and deletes that remove the stored file. `uploadOne` (a Node stream in) has no
// equivalent here. AssetsService.getAsset resolves to { file, stat, stream } where `file` is the
// directus_files row, `stat` is { size, modified: Date, type } and `stream` is an async iterable
// yielding the bytes as one Uint8Array (`for await (const chunk of stream)` works; `.pipe` doesn't).
((globalThis) => {
  const ops = Deno.core.ops;
  const rectus = globalThis.__rectus;
  const { ItemsService } = rectus.services;

  class FilesService extends ItemsService {
    constructor(options = {}) {
      super('directus_files', options);
    }

    importOne(url, body) { return rectus.call(this, 'FilesService', 'importOne', [url, body ?? {}]); }
    deleteOne(key, opts) { return rectus.call(this, 'FilesService', 'deleteOne', [key, opts]); }
    deleteMany(keys, opts) { return rectus.call(this, 'FilesService', 'deleteMany', [keys, opts]); }
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

  class AssetsService extends rectus.RustService {
    static serviceName = 'AssetsService';

    async getAsset(id, transformation = {}) {
      const { file, stat, ticket } = await this._call('getAsset', id, transformation);
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
