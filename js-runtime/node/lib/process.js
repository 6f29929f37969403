// `process` inside the bundle is the engine's global (00_globals.js).
module.exports = globalThis.process;
