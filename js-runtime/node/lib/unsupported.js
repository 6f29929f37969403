// Built-ins Rectus does not provide: requiring one works (packages often require them at load
// time for optional features), using anything on it throws an error naming the module.
module.exports = (name) =>
  new Proxy(
    {},
    {
      get(_, key) {
        if (key === '__esModule' || typeof key === 'symbol') return undefined;
        throw new Error(`${name}.${String(key)} is not available to Rectus hooks (Node built-in "${name}" is not supported)`);
      },
    },
  );
