// Pings a search indexer after publishes (when INDEXER_URL is set).
const fetch = require('node-fetch');

module.exports = function registerHook({ env }) {
  return {
    'items.update': async ({ collection }) => {
      if (env.INDEXER_URL && collection === 'articles') await fetch(env.INDEXER_URL, { method: 'POST' }).catch(() => {});
    },
  };
};
