// Slugs from titles.
const slugify = require('slugify');

module.exports = function registerHook() {
  return {
    'items.create.before': (input, { collection }) => (collection === 'pages' && input.title ? { ...input, slug: slugify(input.title, { lower: true }) } : input),
  };
};
