// Node's `stream` module: readable-stream 4 (a port of Node 18's streams). Its lib/stream.js has
// the shape of Node's module: the legacy `Stream` class carrying Readable, Writable, Duplex,
// Transform, PassThrough, pipeline, finished and `promises`.
module.exports = require('readable-stream/lib/stream.js');
