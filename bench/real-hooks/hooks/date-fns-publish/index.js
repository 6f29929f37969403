// Stamps a human-readable publish date.
const { format, addDays } = require('date-fns');

module.exports = function registerHook() {
  return {
    'items.create.before': (input, { collection }) =>
      collection === 'events' ? { ...input, label: format(addDays(new Date(), 7), 'yyyy-MM-dd') } : input,
  };
};
