// Strips scripts and unknown tags from HTML bodies.
const sanitizeHtml = require('sanitize-html');

module.exports = function registerHook() {
  const clean = (input) => (typeof input.body === 'string' ? { ...input, body: sanitizeHtml(input.body) } : input);
  return {
    'items.create.before': (input, { collection }) => (collection === 'articles' ? clean(input) : input),
    'items.update.before': (input, { collection }) => (collection === 'articles' ? clean(input) : input),
  };
};
