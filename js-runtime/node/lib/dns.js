// Node's `dns`: `lookup` (the system resolver, through tokio) and the resolve4/6 subset
// answered from it. Other record types are not provided.
const { systemError } = require('./errors.js');
const ops = Deno.core.ops;

function lookupAll(hostname, family) {
  return ops.op_node_dns_lookup(String(hostname)).then(
    (list) => {
      const matching = list.filter(([, f]) => !family || f === family);
      if (matching.length === 0) throw systemError({ message: `ENOTFOUND: getaddrinfo ENOTFOUND ${hostname}` }, { hostname });
      return matching.map(([address, f]) => ({ address, family: f }));
    },
    (e) => {
      throw systemError(e, { hostname });
    },
  );
}

function lookup(hostname, options, callback) {
  if (typeof options === 'function') [options, callback] = [{}, options];
  if (typeof options === 'number') options = { family: options };
  const family = Number(options?.family) || 0;
  lookupAll(hostname, family).then(
    (list) => (options?.all ? callback(null, list) : callback(null, list[0].address, list[0].family)),
    (e) => callback(e),
  );
}

const resolver = (family) => (hostname, callback) =>
  lookupAll(hostname, family).then((list) => callback(null, list.map((a) => a.address)), (e) => callback(e));

const unsupported = (name) => (...args) => {
  const cb = args.pop();
  const e = new Error(`dns.${name}() is not available to Rectus hooks`);
  e.code = 'ENOTIMP';
  globalThis.process.nextTick(() => (typeof cb === 'function' ? cb(e) : undefined));
};

const promises = {
  lookup: (hostname, options = {}) => {
    if (typeof options === 'number') options = { family: options };
    return lookupAll(hostname, Number(options.family) || 0).then((list) => (options.all ? list : list[0]));
  },
  resolve4: (h) => lookupAll(h, 4).then((l) => l.map((a) => a.address)),
  resolve6: (h) => lookupAll(h, 6).then((l) => l.map((a) => a.address)),
};

module.exports = {
  lookup,
  resolve4: resolver(4),
  resolve6: resolver(6),
  resolve: (hostname, type, callback) => (typeof type === 'function' ? resolver(4)(hostname, type) : type === 'A' ? resolver(4)(hostname, callback) : type === 'AAAA' ? resolver(6)(hostname, callback) : unsupported(`resolve(${type})`)(callback)),
  resolveMx: unsupported('resolveMx'),
  resolveTxt: unsupported('resolveTxt'),
  resolveSrv: unsupported('resolveSrv'),
  resolveCname: unsupported('resolveCname'),
  reverse: unsupported('reverse'),
  promises,
  NOTFOUND: 'ENOTFOUND',
  ADDRCONFIG: 1024,
  V4MAPPED: 2048,
};
