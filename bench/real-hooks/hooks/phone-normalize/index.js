// Normalises phone numbers to E.164.
const { parsePhoneNumberFromString } = require('libphonenumber-js');

module.exports = function registerHook() {
  return {
    'items.create.before': (input, { collection }) => {
      const phone = collection === 'contacts' && input.phone && parsePhoneNumberFromString(String(input.phone), 'US');
      return phone ? { ...input, phone: phone.number } : input;
    },
  };
};
