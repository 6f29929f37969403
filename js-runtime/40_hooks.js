// Hook registration and dispatch with Directus rc.83 semantics (spec §1.2, §1.4-1.7).
// Rust matches event names to listener ids (EventEmitter2 order) and sends jobs; this file calls
// the listeners and reports each job's outcome back through `op_rectus_job_done`.
((globalThis) => {
  const ops = Deno.core.ops;
  const rectus = globalThis.__rectus;
  const listeners = [];
  // EventEmitter2 calls listeners with `this` = the emitter and sets `emitter.event` first.
  const emitter = { event: undefined };
  rectus.onRelease(() => {
    listeners.length = 0;
  });

  function describe(e) {
    return e instanceof Error ? e.stack || `${e.name}: ${e.message}` : rectus.format([e]);
  }
  rectus.describeError = describe;

  // The isolate's start (engine.rs `build_with`): jobs go to `dispatch`, the hooks load, Rust
  // keeps what registered and what failed.
  rectus.boot = (hooks) => {
    ops.op_rectus_set_dispatcher(rectus.dispatch);
    ops.op_rectus_set_load_report(rectus.loadHooks(hooks, rectus.registerContext()));
  };

  // Loads every hook; returns what registered and what failed. Never throws.
  rectus.loadHooks = (hooks, context) => {
    const registered = [];
    const crons = [];
    const failures = [];
    for (const { name, path } of hooks) {
      try {
        const exported = rectus.requireFrom(path.slice(0, path.lastIndexOf('/')))(path);
        const register = typeof exported === 'function' ? exported : exported?.default;
        if (typeof register !== 'function') throw new TypeError(`${path} does not export a register function`);
        const events = register(context);
        if (events && typeof events.then === 'function') {
          events.then(undefined, (e) => rectus.log('warn', `Hook "${name}": async register function rejected:`, e));
          rectus.log('warn', `Hook "${name}": the register function is async, so no events were registered (as in Directus)`);
          continue;
        }
        if (events === null || events === undefined) throw new TypeError('Cannot convert undefined or null to object');
        for (const [key, handler] of Object.entries(events)) {
          if (typeof handler !== 'function') throw new TypeError(`the value for "${key}" is not a function`);
          const id = listeners.length;
          listeners.push({ hook: name, event: key, fn: handler });
          if (key.startsWith('cron(')) crons.push({ id, hook: name, key });
          else registered.push({ id, hook: name, event: key });
        }
      } catch (e) {
        failures.push({ hook: name, error: describe(e) });
      }
    }
    return { registered, crons, failures };
  };

  function callAll(job) {
    rectus.currentDepth = job.depth;
    const results = [];
    for (const id of job.ids) {
      const l = listeners[id];
      emitter.event = job.event;
      results.push(l.fn.apply(job.kind === 'cron' ? undefined : emitter, job.args));
    }
    return results;
  }

  const isThenable = (v) => v !== null && (typeof v === 'object' || typeof v === 'function') && typeof v.then === 'function';

  // The listeners' results once the promises among them settled, as `Promise.all` gives them
  // (rejecting with the first rejection). Listeners mostly return plain values: those skip the
  // promise per result, but still let what the listeners queued run first.
  async function settleAll(job) {
    const results = callAll(job);
    if (results.some(isThenable)) return Promise.all(results);
    await undefined;
    return results;
  }

  // Before-events: listeners start in order and are awaited together; falsy results are dropped;
  // the rest are deep-merged with the first-registered listener winning; that replaces the payload.
  async function runBefore(job) {
    const settled = await settleAll(job);
    // Events without an input (delete.before gets only the context) have nothing to replace.
    if (!job.hasInput) return null;
    const truthy = settled.filter(Boolean);
    if (truthy.length === 0) return job.args[0];
    // Listeners that pass the input through return the same object: merging it into itself
    // changes nothing (lodash skips it too).
    return truthy.reduce((acc, next) => (next === acc ? acc : rectus.merge(next, acc)));
  }

  async function runAfter(job) {
    try {
      await settleAll(job);
    } catch (e) {
      const hooks = [...new Set(job.ids.map((id) => listeners[id].hook))].join(', ');
      rectus.log('warn', `An error was thrown while executing hook "${job.event}" (${hooks}):`, e);
    }
  }

  // The events that carry the Express `app` (spec §2.1), in Directus's order, and where what
  // their listeners register ends up (see 45_app.js).
  const appPhases = {
    'init.before': 'early',
    'middlewares.init.before': 'early',
    'middlewares.init.after': 'early',
    'routes.init.before': 'early',
    'routes.custom.init.before': 'late',
    'routes.custom.init.after': 'late',
    'routes.init.after': 'unreachable',
  };

  // Runs the app events' listeners (ids matched by Rust; every app event is listed, in order),
  // awaiting each event as Directus does, and loads the endpoints where rc.83's app.ts does: the
  // custom router is mounted at `/custom` before `routes.custom.init.before`, the endpoints are
  // registered on it before `routes.custom.init.after` (47_endpoints.js). Then reports the route
  // table and the endpoints. A failing listener is logged; the others still register.
  rectus.initApp = async (events, endpoints) => {
    let custom = null;
    let loaded = { mounted: [], failures: [] };
    for (const { event, ids } of events) {
      rectus.appPhase = appPhases[event];
      if (event === 'routes.custom.init.before' && endpoints.length > 0) {
        custom = rectus.expressRouter();
        rectus.app.use('/custom', custom);
      }
      if (event === 'routes.custom.init.after' && custom) {
        loaded = rectus.loadEndpoints(custom, endpoints, rectus.registerContext());
      }
      if (ids.length === 0) continue;
      emitter.event = event;
      try {
        await Promise.all(ids.map((id) => listeners[id].fn.call(emitter, { app: rectus.app })));
      } catch (e) {
        const hooks = [...new Set(ids.map((id) => listeners[id].hook))].join(', ');
        rectus.log('warn', `An error was thrown while executing hook "${event}" (${hooks}):`, e);
      }
    }
    ops.op_rectus_set_app_init({ routes: rectus.routeTable(), endpoints: loaded.mounted, failures: loaded.failures });
  };

  // `request.not_found` gets the raw (req, res). A listener that answers wins; one that only
  // returns something truthy claims the request, and Express's final handler answers 404.
  async function runNotFound(job) {
    let sent = null;
    const res = rectus.makeResponse((r) => (sent = r));
    const req = rectus.makeRequest(job.args[0], job.schemaVersion);
    const claimed = (await Promise.all(callAll({ ...job, args: [req, res] }))).some(Boolean);
    if (sent) return sent;
    if (!claimed) return { next: true };
    const body = `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Error</title>\n</head>\n<body>\n<pre>Cannot ${req.method} ${req.path}</pre>\n</body>\n</html>\n`;
    return { status: 404, headers: { 'content-type': 'text/html; charset=utf-8' }, body };
  }

  const runners = {
    before: runBefore,
    call: settleAll,
    route: (job) => rectus.runRoute(job.args[0], job.args[1], job.schemaVersion),
    notfound: runNotFound,
  };

  function finish(id, ok, value) {
    let text;
    try {
      text = JSON.stringify(ok ? { ok: value === undefined ? null : value } : { error: rectus.normalizeError(value) });
    } catch (e) {
      text = JSON.stringify({ error: rectus.normalizeError(e) });
    }
    ops.op_rectus_job_done(id, text);
  }

  // Called by Rust with one job as JSON text; starts it without waiting for it.
  rectus.dispatch = (text) => {
    const job = JSON.parse(text);
    if (job.kind === 'cron') job.args = [new Date(job.args[0])];
    if (job.event === 'server.start.before' || job.event === 'server.stop.before') job.args = [{ server: rectus.makeServer(job.args[0]) }];
    if (job.payloadIsInput && job.args[1]) job.args[1].payload = job.args[0];
    const ctx = job.args[job.args.length - 1];
    if (ctx && typeof ctx === 'object' && typeof ctx.event === 'string') rectus.decorateContext(ctx, job.schemaVersion, job.transaction);
    let run;
    try {
      run = (runners[job.kind] || runAfter)(job);
    } catch (e) {
      run = Promise.reject(e);
    }
    run.then(
      (v) => finish(job.id, true, job.kind === 'before' || job.kind === 'route' || job.kind === 'notfound' ? v : null),
      (e) => {
        if (job.kind === 'call' || job.kind === 'after' || job.kind === 'cron') rectus.log('warn', `An error was thrown while executing hook "${job.event}":`, e);
        finish(job.id, false, e);
      },
    );
  };
})(globalThis);
