// Node's `perf_hooks`: the engine's own `performance`.
module.exports = { performance: globalThis.performance };
