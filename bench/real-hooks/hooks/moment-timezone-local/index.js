// Stores the local time of an event in its venue's time zone.
const moment = require('moment-timezone');

module.exports = function registerHook() {
  return {
    'items.create.before': (input, { collection }) =>
      collection === 'events' && input.tz ? { ...input, local: moment().tz(input.tz).format() } : input,
  };
};
