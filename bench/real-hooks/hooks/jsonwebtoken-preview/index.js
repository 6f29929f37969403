// Signs a preview token for drafts.
const jwt = require('jsonwebtoken');

module.exports = function registerHook({ env }) {
  return {
    'items.create': ({ collection, item }) => {
      if (collection === 'articles') jwt.sign({ item }, env.SECRET || 'bench', { expiresIn: '1h' });
    },
  };
};
