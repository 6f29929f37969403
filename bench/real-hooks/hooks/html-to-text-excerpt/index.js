// Fills `excerpt` with the plain text of the body.
const { convert } = require('html-to-text');

module.exports = function registerHook() {
  return {
    'items.create.before': (input, { collection }) => {
      if (collection !== 'articles' || typeof input.body !== 'string') return input;
      return { ...input, excerpt: convert(input.body, { wordwrap: false }).slice(0, 200) };
    },
  };
};
