// Appends tracking parameters to links.
const qs = require('qs');

module.exports = function registerHook() {
  return {
    'items.create.before': (input, { collection }) =>
      collection === 'links' && input.url ? { ...input, url: `${input.url}?${qs.stringify({ utm: { source: 'cms' } })}` } : input,
  };
};
