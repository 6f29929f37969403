// Hashes kiosk PINs.
const bcrypt = require('bcryptjs');

module.exports = function registerHook() {
  return {
    'items.create.before': (input, { collection }) => (collection === 'kiosks' && input.pin ? { ...input, pin: bcrypt.hashSync(String(input.pin), 4) } : input),
  };
};
