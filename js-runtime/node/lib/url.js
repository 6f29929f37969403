// Node's `url`: the legacy API (npm `url`: parse, format, resolve) and the WHATWG URL classes
// (whatwg-url.js), plus the file-URL helpers.
const legacy = require('url/');
const { URL, URLSearchParams } = require('./whatwg-url.js');
const ops = Deno.core.ops;

function fileURLToPath(input) {
  const url = typeof input === 'string' ? new URL(input) : input;
  if (url.protocol !== 'file:') {
    const e = new TypeError('The URL must be of scheme file');
    e.code = 'ERR_INVALID_URL_SCHEME';
    throw e;
  }
  if (url.hostname !== '') throw new TypeError(`File URL host must be "localhost" or empty on linux`);
  return decodeURIComponent(url.pathname);
}

function pathToFileURL(path) {
  const absolute = require('path-browserify').resolve(path);
  const url = new URL('file://');
  url.pathname = absolute + (path.endsWith('/') && !absolute.endsWith('/') ? '/' : '');
  return url;
}

// `url.format(URL, options)` formats a WHATWG URL; anything else is the legacy format.
function format(input, options) {
  if (input instanceof URL) {
    const o = { auth: true, fragment: true, search: true, unicode: false, ...options };
    let out = input.protocol + (input.host || input.protocol === 'file:' ? '//' : '');
    if (o.auth && (input.username || input.password)) out += input.username + (input.password ? ':' + input.password : '') + '@';
    out += o.unicode ? ops.op_node_domain_to_unicode(input.hostname) + (input.port ? ':' + input.port : '') : input.host;
    out += input.pathname;
    if (o.search) out += input.search;
    if (o.fragment) out += input.hash;
    return out;
  }
  return legacy.format(input);
}

// The `http.request(options)` shape of a URL.
function urlToHttpOptions(url) {
  const options = {
    protocol: url.protocol,
    hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
    hash: url.hash,
    search: url.search,
    pathname: url.pathname,
    path: `${url.pathname || ''}${url.search || ''}`,
    href: url.href,
  };
  if (url.port !== '') options.port = Number(url.port);
  if (url.username || url.password) options.auth = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  return options;
}

module.exports = {
  ...legacy,
  format,
  URL,
  URLSearchParams,
  fileURLToPath,
  pathToFileURL,
  urlToHttpOptions,
  domainToASCII: (d) => ops.op_node_domain_to_ascii(String(d)),
  domainToUnicode: (d) => ops.op_node_domain_to_unicode(String(d)),
};
