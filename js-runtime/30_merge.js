// lodash `merge` semantics, which Directus used to combine before-hook results: plain objects and
// arrays merge recursively, `undefined` sources never overwrite, other values replace.
((globalThis) => {
  const isPlain = (v) => v !== null && typeof v === 'object' && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);

  function merge(target, source) {
    if (source === null || source === undefined || typeof source !== 'object') return target;
    for (const key of Object.keys(source)) {
      const s = source[key];
      const t = target[key];
      if (s === undefined) continue;
      if ((isPlain(s) || Array.isArray(s)) && (isPlain(t) || Array.isArray(t)) && Array.isArray(s) === Array.isArray(t)) {
        merge(t, s);
      } else if (isPlain(s)) {
        target[key] = merge({}, s);
      } else if (Array.isArray(s)) {
        target[key] = merge([], s);
      } else {
        target[key] = s;
      }
    }
    return target;
  }
  globalThis.__rectus.merge = merge;
})(globalThis);
