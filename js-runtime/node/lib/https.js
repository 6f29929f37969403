// Node's `https` client: `http`'s ClientRequest with https defaults; reqwest does the TLS.
const http = require('./http.js');

class Agent extends http.Agent {
  constructor(options) {
    super(options);
    this.defaultPort = 443;
    this.protocol = 'https:';
  }
}
const globalAgent = new Agent();
const defaults = { protocol: 'https:', port: 443, agent: globalAgent };

function request(input, options, cb) {
  return new http.ClientRequest(input, options, cb, defaults);
}

function get(input, options, cb) {
  const req = request(input, options, cb);
  req.end();
  return req;
}

module.exports = {
  Agent,
  globalAgent,
  request,
  get,
  createServer() {
    throw new Error('https.createServer() is not available to Rectus hooks');
  },
};
