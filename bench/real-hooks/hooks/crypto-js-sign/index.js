// Signs outgoing payloads with an HMAC.
const CryptoJS = require('crypto-js');

module.exports = function registerHook({ env }) {
  return {
    'items.create.before': (input, { collection }) =>
      collection === 'payloads' ? { ...input, signature: CryptoJS.HmacSHA256(JSON.stringify(input), env.SECRET || 'bench').toString() } : input,
  };
};
