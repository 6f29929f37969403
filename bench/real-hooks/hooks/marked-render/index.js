// Renders Markdown bodies to HTML.
const { marked } = require('marked');

module.exports = function registerHook() {
  return {
    'items.create.before': (input, { collection }) => (collection === 'docs' && input.markdown ? { ...input, html: marked.parse(input.markdown) } : input),
  };
};
