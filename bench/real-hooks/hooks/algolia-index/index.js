// Mirrors products to an Algolia index (only with credentials).
const algoliasearch = require('algoliasearch');

module.exports = function registerHook({ env }) {
  const index = algoliasearch(env.ALGOLIA_APP || 'BENCHAPP', env.ALGOLIA_KEY || 'bench').initIndex('products');
  return {
    'items.create': async ({ collection, item, payload }) => {
      if (collection === 'products' && env.ALGOLIA_KEY) await index.saveObject({ objectID: item, ...payload });
    },
  };
};
