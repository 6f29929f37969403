// Checks the shape of settings JSON.
const { z } = require('zod');

module.exports = function registerHook({ exceptions }) {
  const Settings = z.object({ theme: z.enum(['light', 'dark']).optional(), pageSize: z.number().int().positive().optional() }).passthrough();
  return {
    'items.create.before': (input, { collection }) => {
      if (collection !== 'preferences') return input;
      const parsed = Settings.safeParse(input.settings || {});
      if (!parsed.success) throw new exceptions.InvalidPayloadException(parsed.error.message);
      return input;
    },
  };
};
