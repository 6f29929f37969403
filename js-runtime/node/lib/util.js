// Node's `util`: the npm port, plus what it lacks from Node 16 and later (added to the port's
// own exports object, so modules that required it earlier in a cycle see them too).
const util = require('util/');
const assert = require('assert/');
const text = require('./text.js');

function isDeepStrictEqual(a, b) {
  try {
    assert.deepStrictEqual(a, b);
    return true;
  } catch {
    return false;
  }
}

Object.assign(util, {
  isDeepStrictEqual,
  TextEncoder: text.TextEncoder,
  TextDecoder: text.TextDecoder,
  stripVTControlCharacters: (s) => String(s).replace(/\u001b\[[0-9;]*[A-Za-z]/g, ''),
  toUSVString: (s) => String(s).toWellFormed(),
});
// The port's isProxy/isExternal/isModuleNamespaceObject throw (and can't be redefined): these
// answer what JS can observe.
const answers = {
  isNativeError: (e) => e instanceof Error,
  isProxy: () => false,
  isExternal: () => false,
  isModuleNamespaceObject: (v) => v?.[Symbol.toStringTag] === 'Module',
};
util.types = Object.create(util.types, Object.fromEntries(Object.entries(answers).map(([k, value]) => [k, { value, enumerable: true }])));

module.exports = util;
