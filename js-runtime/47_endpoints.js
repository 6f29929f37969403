// Endpoint extensions (spec §1, rc.83 `registerEndpoints`): `extensions/endpoints/<name>/index.js`
// exports `function registerEndpoint(router, context)` (or has it as `.default`; the
// `{ id, handler }` object later releases write is read too). Each register function gets an
// Express Router of its own — Express 4's, bundled (js-runtime/node/lib/express.js), so paths read
// as path-to-regexp 0.1 reads them — and the hooks' context. The routers hang off one custom
// router that `initApp` (40_hooks.js) mounts on `app` at `/custom`, so Rust sends requests under
// `/custom` to an isolate like any route a hook put on `app` (45_app.js), and Express's router
// does the rest. rc.98+ mount at `/<name>` instead; Rectus keeps rc.83's `/custom/<name>`.
((globalThis) => {
  const rectus = globalThis.__rectus;

  rectus.expressRouter = (options) => rectus.builtin('express').Router(options);

  // The routes an endpoint's router holds, for `rectus hooks list` (middleware has no path).
  function describeRoutes(router, base) {
    const routes = [];
    for (const layer of router.stack) {
      if (!layer.route) continue;
      const methods = Object.keys(layer.route.methods).filter((m) => layer.route.methods[m]);
      for (const method of methods.length ? methods : ['all']) {
        const path = layer.route.path;
        routes.push(`${method === '_all' ? 'ALL' : method.toUpperCase()} ${base}${typeof path === 'string' ? (path === '/' ? '' : path) : String(path)}`);
      }
    }
    return routes;
  }

  // Loads the endpoints in order onto `custom`; one that fails is reported and the others still
  // load. As in Directus, an endpoint's router is mounted before its register function runs, so
  // routes it added before throwing stay.
  rectus.loadEndpoints = (custom, endpoints, context) => {
    const mounted = [];
    const failures = [];
    for (const { name, path } of endpoints) {
      try {
        const exported = rectus.requireFrom(path.slice(0, path.lastIndexOf('/')))(path);
        const config = typeof exported === 'function' || typeof exported?.handler === 'function' ? exported : exported?.default;
        const register = typeof config === 'function' ? config : config?.handler;
        if (typeof register !== 'function') throw new TypeError(`${path} does not export a register function`);
        const route = typeof config === 'function' ? name : String(config.id ?? name);
        const router = rectus.expressRouter();
        custom.use(`/${route}`, router);
        const endpoint = { name, route: `/custom/${route}`, routes: [] };
        mounted.push(endpoint);
        register(router, context);
        endpoint.routes = describeRoutes(router, endpoint.route);
      } catch (e) {
        failures.push({ hook: name, error: rectus.describeError(e) });
      }
    }
    return { mounted, failures };
  };
})(globalThis);
