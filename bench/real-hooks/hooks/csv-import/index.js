// Expands a CSV column into rows (stored as JSON).
const { parse } = require('csv-parse/sync');

module.exports = function registerHook() {
  return {
    'items.create.before': (input, { collection }) => (collection === 'imports' && input.csv ? { ...input, rows: parse(input.csv, { columns: true }) } : input),
  };
};
