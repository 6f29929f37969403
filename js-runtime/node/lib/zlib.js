// Node's `zlib`: browserify-zlib (pako) for gzip/deflate, streaming and sync. Brotli is absent,
// so packages that probe for `createBrotliDecompress` (axios, got) fall back as on old Node.
const zlib = require('browserify-zlib');
module.exports = { ...zlib, constants: require('../generated/constants.js').zlib };
