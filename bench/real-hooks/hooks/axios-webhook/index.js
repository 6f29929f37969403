// Posts every new article to a webhook (when WEBHOOK_URL is set).
const axios = require('axios');

module.exports = function registerHook({ env }) {
  const client = axios.create({ baseURL: env.WEBHOOK_URL || 'http://127.0.0.1:9', timeout: 2000 });
  return {
    'items.create': async ({ collection, item }) => {
      if (env.WEBHOOK_URL && collection === 'articles') await client.post('/', { item }).catch(() => {});
    },
  };
};
