// Gives each order a public reference.
const { v4: uuidv4 } = require('uuid');

module.exports = function registerHook() {
  return {
    'items.create.before': (input, { collection }) => (collection === 'orders' ? { ...input, reference: uuidv4() } : input),
  };
};
