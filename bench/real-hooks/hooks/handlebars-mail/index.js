// Renders a notification text from a template.
const Handlebars = require('handlebars');

module.exports = function registerHook({ logger }) {
  const template = Handlebars.compile('New {{collection}} item {{key}}');
  return {
    'items.create': ({ collection, item }) => {
      if (collection === 'orders') (logger || console).info(template({ collection, key: item }));
    },
  };
};
