// `express` for hooks and endpoints without an Express of their own, and the `router` an
// endpoint's register function gets: Express 4's own Router from the npm package (bundled), which
// is what `express.Router()` is on Directus — path-to-regexp 0.1 paths, `use`/`route`/`param`,
// `next('route')`, `next('router')`, error middleware with four parameters, automatic OPTIONS.
//
// Only the parts that make sense inside Rectus are here: `Router` and `Route`, and the body
// parsers as pass-throughs (Rectus has parsed the JSON body before any JS sees the request).
// Calling `express()` to build an application throws: the server is Rectus's.
const Router = require('express/lib/router');
const Route = require('express/lib/router/route');
const Layer = require('express/lib/router/layer');

// Express 4 ignores what a handler returns, so a rejected async handler leaves its request
// hanging until the hook timeout. Here, as in Express 5, the rejection goes to `next(err)` and
// the client gets the error answer.
function settle(result, next) {
  if (result && typeof result.then === 'function') result.then(undefined, (e) => next(e || new Error('Rejected promise')));
}

Layer.prototype.handle_request = function handle(req, res, next) {
  const fn = this.handle;
  if (fn.length > 3) return next();
  try {
    settle(fn(req, res, next), next);
  } catch (err) {
    next(err);
  }
};

Layer.prototype.handle_error = function handleError(error, req, res, next) {
  const fn = this.handle;
  if (fn.length !== 4) return next(error);
  try {
    settle(fn(error, req, res, next), next);
  } catch (err) {
    next(err);
  }
};

function express() {
  throw new Error('express(): Rectus serves the API itself and has no standalone Express applications; use express.Router()');
}

const passThrough = () => (req, res, next) => next();
express.Router = Router;
express.Route = Route;
express.json = passThrough;
express.urlencoded = passThrough;
express.raw = passThrough;
express.text = passThrough;

module.exports = express;
