// Trims every string field of a new article.
const _ = require('lodash');

module.exports = function registerHook() {
  return {
    'items.create.before': (input, { collection }) => (collection === 'articles' ? _.mapValues(input, (v) => (_.isString(v) ? _.trim(v) : v)) : input),
  };
};
