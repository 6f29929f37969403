// `services.FilesService` and `services.AssetsService`. FilesService is the ItemsService on
// directus_files plus what touches stored bytes, run by the Rust FilesService (through
// `rectus.call`, 60_services.js): uploadOne, importOne, and deletes that remove the stored file.
// uploadOne takes a Node Readable (or any async iterable of chunks), a Buffer/Uint8Array or a
// string, and streams it to storage chunk by chunk (crates/hooks/src/services/upload.rs).
// AssetsService.getAsset resolves to { file, stat, stream } where `file` is the
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

    async uploadOne(stream, data = {}, primaryKey) {
      const ticket = ops.op_rectus_upload_open();
      const stored = rectus.call(this, 'FilesService', 'uploadOne', [data, primaryKey ?? null], ticket);
      let failure = null;
      try {
        for await (const chunk of chunks(stream)) {
          if (!(await ops.op_rectus_upload_write(ticket, chunk))) break;
        }
      } catch (e) {
        failure = String(e?.message ?? e);
      }
      ops.op_rectus_upload_end(ticket, failure);
      return await stored;
    }

    // The deprecated rc.83 names.
    upload(stream, data, primaryKey) {
      rectus.log('warn', 'FilesService.upload is deprecated; use uploadOne');
      return this.uploadOne(stream, data, primaryKey);
    }
    import(url, body) {
      rectus.log('warn', 'FilesService.import is deprecated; use importOne');
      return this.importOne(url, body);
    }
  }

  const encoder = new TextEncoder();
  // The byte chunks of what uploadOne was given.
  async function* chunks(source) {
    if (typeof source === 'string') yield encoder.encode(source);
    else if (source instanceof ArrayBuffer) yield new Uint8Array(source);
    else if (ArrayBuffer.isView(source)) yield new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
    else if (source && typeof source[Symbol.asyncIterator] === 'function') {
      for await (const chunk of source) yield* chunks(chunk);
    } else throw new TypeError('uploadOne needs a stream, a Buffer or a string');
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
