// Node's `constants` module: the errno, signal, fs and crypto tables in one object.
const constants = require('../generated/constants.js');

module.exports = { ...constants.os.errno, ...constants.os.signals, ...constants.fs, ...constants.crypto };
