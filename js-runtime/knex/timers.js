// Node's `timers` module for the bundle: the engine's own timer globals. (The npm
// timers-browserify polyfill breaks tarn's clearInterval on these timers.)
module.exports = { setTimeout, clearTimeout, setInterval, clearInterval, setImmediate, clearImmediate };
