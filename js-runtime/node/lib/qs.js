// npm `url` parses and formats query strings with `qs`; Node's own `url` uses `querystring`,
// which is what this gives it (and keeps `qs` and its dependencies out of the bundle).
const querystring = require('querystring-es3');
module.exports = { parse: (text) => querystring.parse(text), stringify: (object) => querystring.stringify(object) };
