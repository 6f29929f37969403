// Parses an XML feed field.
const xml2js = require('xml2js');

module.exports = function registerHook() {
  const parser = new xml2js.Parser({ explicitArray: false });
  return {
    'items.create.before': async (input, { collection }) => (collection === 'feeds' && input.xml ? { ...input, parsed: await parser.parseStringPromise(input.xml) } : input),
  };
};
