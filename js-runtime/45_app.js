// Directus passes the Express `app` to `init.before`, `middlewares.init.*` and `routes.*` hooks
// (spec §2.1). This is an Express-shaped stand-in: hooks register routes and middleware with
// `(req, res, next)` handlers; Rust matches requests against the table they produce
// (crates/hooks/src/app.rs) and sends matching ones here with the route ids and params.
//
// Decisions: registering happens once per isolate (each isolate can then serve any request);
// changes a middleware makes to `req` are not seen by Rectus's own routes; a handler that
// throws or rejects gets the Directus error response (Express 4 would leave the request
// hanging on a rejection). `express.Router()` (js-runtime/node/lib/express.js) can be mounted
// with `app.use(path, router)` like any middleware: Express's router routes inside it.
((globalThis) => {
  const rectus = globalThis.__rectus;
  const handlersById = [];
  const table = [];
  rectus.onRelease(() => {
    handlersById.length = 0;
    table.length = 0;
  });
  rectus.appPhase = 'early';

  const methods = ['get', 'post', 'put', 'patch', 'delete', 'options', 'head'];
  const isPath = (p) => typeof p === 'string' || p instanceof RegExp || (Array.isArray(p) && p.length > 0 && p.every(isPath));

  function register(method, prefix, path, handlers) {
    const fns = handlers.flat(Infinity);
    for (const fn of fns) {
      if (typeof fn !== 'function') {
        throw new TypeError(`app.${method ? method.toLowerCase() : 'use'}() requires a callback function but got a ${Object.prototype.toString.call(fn)}`);
      }
    }
    const id = handlersById.length;
    handlersById.push(fns);
    for (const p of Array.isArray(path) ? path.flat(Infinity) : [path]) {
      const spec = p instanceof RegExp ? { regexp: p.source, flags: p.flags } : { path: String(p) };
      table.push({ id, phase: rectus.appPhase, method, prefix, ...spec });
    }
  }

  const settings = {};
  const app = { locals: {}, settings, mountpath: '/' };
  for (const m of methods) {
    app[m] = function (path, ...handlers) {
      // `app.get(name)` with one argument reads a setting, as in Express.
      if (m === 'get' && handlers.length === 0) return settings[path];
      register(m.toUpperCase(), false, path, handlers);
      return app;
    };
  }
  app.del = app.delete;
  app.all = (path, ...handlers) => (register(null, false, path, handlers), app);
  app.use = (...args) => {
    const path = isPath(args[0]) ? args.shift() : '/';
    register(null, true, path, args);
    return app;
  };
  app.route = (path) => {
    const route = {};
    for (const m of [...methods, 'all']) route[m] = (...handlers) => (app[m](path, ...handlers), route);
    return route;
  };
  app.set = (key, value) => ((settings[key] = value), app);
  app.enable = (key) => app.set(key, true);
  app.disable = (key) => app.set(key, false);
  app.enabled = (key) => Boolean(settings[key]);
  app.disabled = (key) => !settings[key];
  app.engine = () => app;
  app.param = () => app;
  app.on = () => app;
  app.listen = () => {
    throw new Error('app.listen() is not available in Rectus: the server already listens');
  };
  rectus.app = app;
  rectus.routeTable = () => table;

  const STATUS = { 200: 'OK', 201: 'Created', 204: 'No Content', 301: 'Moved Permanently', 302: 'Found', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 500: 'Internal Server Error' };
  const TYPES = { json: 'application/json', html: 'text/html', text: 'text/plain', txt: 'text/plain', xml: 'application/xml' };

  // A response whose end is reported to `done` once, as `{ status, headers, body }`.
  function makeResponse(done) {
    const headers = {};
    const chunks = [];
    const res = { statusCode: 200, headersSent: false, finished: false, locals: {} };
    res.status = (code) => ((res.statusCode = Number(code)), res);
    res.set = res.header = (key, value) => {
      if (typeof key === 'object') for (const [k, v] of Object.entries(key)) res.set(k, v);
      else headers[String(key).toLowerCase()] = Array.isArray(value) ? value.map(String) : String(value);
      return res;
    };
    res.setHeader = (key, value) => void res.set(key, value);
    res.get = res.getHeader = (key) => headers[String(key).toLowerCase()];
    res.removeHeader = (key) => void delete headers[String(key).toLowerCase()];
    res.type = (type) => res.set('content-type', type.includes('/') ? type : TYPES[type] || `application/${type}`);
    res.contentType = res.type;
    res.write = (chunk) => (chunks.push(String(chunk)), true);
    res.end = (body) => {
      if (res.headersSent) return res;
      if (body !== undefined && body !== null) chunks.push(String(body));
      res.headersSent = res.finished = true;
      done({ status: res.statusCode, headers, body: chunks.join('') });
      return res;
    };
    res.json = (value) => {
      if (!headers['content-type']) res.type('application/json; charset=utf-8');
      return res.end(JSON.stringify(value));
    };
    res.send = (body) => {
      if (body === undefined || body === null) return res.end();
      if (typeof body === 'object') return res.json(body);
      if (!headers['content-type']) res.type('text/html; charset=utf-8');
      return res.end(String(body));
    };
    res.sendStatus = (code) => res.status(code).type('text/plain; charset=utf-8').end(STATUS[code] || String(code));
    // Express's plain-text answer (what it sends a client that accepts anything).
    res.redirect = (a, b) => {
      const [status, url] = b === undefined ? [302, a] : [a, b];
      const text = `${STATUS[status] || 'Found'}. Redirecting to ${url}`;
      return res.status(status).set('location', url).type('text/plain; charset=utf-8').end(text);
    };
    res.cookie = (name, value, options = {}) => {
      let cookie = `${name}=${encodeURIComponent(typeof value === 'object' ? 'j:' + JSON.stringify(value) : value)}; Path=${options.path || '/'}`;
      if (options.httpOnly) cookie += '; HttpOnly';
      if (options.maxAge !== undefined) cookie += `; Max-Age=${Math.floor(options.maxAge / 1000)}`;
      if (options.sameSite) cookie += `; SameSite=${options.sameSite === true ? 'Strict' : options.sameSite}`;
      if (options.secure) cookie += '; Secure';
      const existing = headers['set-cookie'];
      headers['set-cookie'] = existing ? [].concat(existing, cookie) : cookie;
      return res;
    };
    res.clearCookie = (name, options = {}) => res.cookie(name, '', { ...options, maxAge: 0 });
    return res;
  }

  // `req.cookies` as cookie-parser (in Directus's middleware) fills it.
  function parseCookies(header) {
    const cookies = {};
    for (const pair of String(header || '').split(';')) {
      const eq = pair.indexOf('=');
      if (eq < 0) continue;
      const name = pair.slice(0, eq).trim();
      let value = pair.slice(eq + 1).trim();
      if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      if (!(name in cookies)) {
        try {
          cookies[name] = decodeURIComponent(value);
        } catch {
          cookies[name] = value;
        }
      }
    }
    return cookies;
  }

  function makeRequest(r, schemaVersion) {
    const req = {
      method: r.method,
      originalUrl: r.url,
      url: r.url,
      baseUrl: '',
      params: {},
      query: r.query,
      sanitizedQuery: Object.freeze(r.sanitizedQuery),
      body: r.body,
      cookies: parseCookies(r.headers.cookie),
      headers: r.headers,
      accountability: r.accountability,
      ip: r.ip,
      ips: [],
      protocol: 'http',
      secure: false,
      hostname: (r.headers.host || '').replace(/:\d+$/, ''),
      get: (name) => r.headers[String(name).toLowerCase()],
    };
    req.header = req.get;
    // As in Express, the path of `req.url`, which routers rewrite relative to where they are mounted.
    Object.defineProperty(req, 'path', {
      get() {
        const q = this.url.indexOf('?');
        return q === -1 ? this.url : this.url.slice(0, q);
      },
      enumerable: true,
      configurable: true,
    });
    Object.defineProperty(req, 'schema', { get: () => rectus.schemaFor(schemaVersion), enumerable: true });
    return req;
  }
  rectus.makeRequest = makeRequest;
  rectus.makeResponse = makeResponse;

  // Runs the matched routes' handlers in order, Express-style: `next()` moves on, `next('route')`
  // skips the rest of the current route, `next(err)` goes to the next error handler (4 params).
  rectus.runRoute = (request, matches, schemaVersion) =>
    new Promise((resolve, reject) => {
      const res = makeResponse(resolve);
      const req = makeRequest(request, schemaVersion);
      const stack = [];
      for (const m of matches) for (const fn of handlersById[m.id]) stack.push({ fn, m });
      let i = 0;
      const call = (f, args) => {
        try {
          const r = f(...args);
          if (r && typeof r.then === 'function') r.then(undefined, (e) => next(e));
        } catch (e) {
          next(e);
        }
      };
      function next(err) {
        if (res.headersSent) return;
        if (err === 'route') {
          const current = stack[i - 1]?.m;
          while (i < stack.length && stack[i].m === current) i++;
          err = undefined;
        }
        while (i < stack.length && (stack[i].fn.length === 4) !== Boolean(err)) i++;
        if (i >= stack.length) return err ? reject(err) : resolve({ next: true });
        const { fn, m } = stack[i++];
        req.params = m.params;
        req.baseUrl = m.base;
        // Express strips the mount path and keeps the URL absolute (`/custom/x?a` → `/?a`).
        const rest = m.base ? request.url.slice(m.base.length) : request.url;
        req.url = rest.startsWith('/') ? rest : '/' + rest;
        call(fn, err ? [err, req, res, next] : [req, res, next]);
      }
      next();
    });

  // `server` of `server.start.before` / `server.stop.before`: enough of an http.Server to
  // inspect it and attach listeners (which Rectus never calls).
  rectus.makeServer = (info = {}) => {
    const server = {
      listening: Boolean(info.listening),
      address: () => (info.port ? { address: info.address || '0.0.0.0', family: 'IPv4', port: info.port } : null),
      on: () => server,
      once: () => server,
      off: () => server,
      removeListener: () => server,
      close: () => server,
      setTimeout: () => server,
    };
    return server;
  };
})(globalThis);
