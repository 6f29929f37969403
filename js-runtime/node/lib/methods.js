// The `methods` package (the HTTP methods Express's router defines functions for): the list of
// the Node.js that built the bundle, without loading the `http` client it would read it from.
const { METHODS } = require('../generated/constants.js');

module.exports = METHODS.map((m) => m.toLowerCase()).sort();
