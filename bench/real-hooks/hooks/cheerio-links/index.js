// Collects the links of an HTML body.
const cheerio = require('cheerio');

module.exports = function registerHook() {
  return {
    'items.create.before': (input, { collection }) => {
      if (collection !== 'articles' || typeof input.body !== 'string') return input;
      const $ = cheerio.load(input.body);
      return { ...input, links: $('a').map((_, a) => $(a).attr('href')).get() };
    },
  };
};
