// Validates contact form entries.
const Joi = require('joi');

module.exports = function registerHook({ exceptions }) {
  const schema = Joi.object({ email: Joi.string().email().required(), message: Joi.string().max(2000) }).unknown(true);
  return {
    'items.create.before': (input, { collection }) => {
      if (collection !== 'contacts') return input;
      const { error } = schema.validate(input);
      if (error) throw new exceptions.InvalidPayloadException(error.message);
      return input;
    },
  };
};
