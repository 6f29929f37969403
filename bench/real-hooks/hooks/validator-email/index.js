// Refuses invalid e-mail addresses on subscribers.
const validator = require('validator');

module.exports = function registerHook({ exceptions }) {
  return {
    'items.create.before': (input, { collection }) => {
      if (collection === 'subscribers' && !validator.isEmail(String(input.email))) throw new exceptions.InvalidPayloadException('invalid email');
      return input;
    },
  };
};
