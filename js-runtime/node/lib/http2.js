// HTTP/2 is not provided. got@11 (through http2-wrapper) requires `http2` at load time and reads
// its constants, so the module loads; connecting throws an error naming it.
module.exports = {
  constants: require('../generated/constants.js').http2,
  connect() {
    throw new Error('http2.connect() is not available to Rectus hooks');
  },
  createServer() {
    throw new Error('http2.createServer() is not available to Rectus hooks');
  },
  createSecureServer() {
    throw new Error('http2.createSecureServer() is not available to Rectus hooks');
  },
};
