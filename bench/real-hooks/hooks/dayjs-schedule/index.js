// Rejects events scheduled in the past.
const dayjs = require('dayjs');

module.exports = function registerHook({ exceptions }) {
  return {
    'items.create.before': (input, { collection }) => {
      if (collection === 'events' && input.starts_at && dayjs(input.starts_at).isBefore(dayjs())) {
        throw new exceptions.InvalidPayloadException('starts_at is in the past');
      }
      return input;
    },
  };
};
