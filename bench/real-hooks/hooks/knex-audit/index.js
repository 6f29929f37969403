// Counts articles through `database` after each create (knex, as real hooks use it).
module.exports = function registerHook({ database }) {
  return {
    'items.create': async ({ collection }) => {
      if (collection === 'articles') await database('articles').count('* as n');
    },
  };
};
