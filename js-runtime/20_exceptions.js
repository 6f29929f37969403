// The exceptions Directus rc.83 hands to hooks: same names, constructor signatures, status, code
// and default messages (spec §3.1), all `instanceof BaseException`.
((globalThis) => {
  const rectus = globalThis.__rectus;

  class BaseException extends Error {
    constructor(message, status, code, extensions) {
      super(message);
      this.status = status;
      this.code = code ?? 'INTERNAL_SERVER_ERROR';
      this.extensions = extensions ?? {};
    }
  }

  const simple = (name, status, code, defaultMessage) =>
    ({
      [name]: class extends BaseException {
        constructor(message = defaultMessage, extensions) {
          super(message === undefined ? '' : message, status, code, extensions);
        }
      },
    })[name];

  class ForbiddenException extends BaseException {
    constructor() {
      super("You don't have permission to access this.", 403, 'FORBIDDEN');
    }
  }
  class GraphQLValidationException extends BaseException {
    constructor(extensions) {
      super('GraphQL validation error.', 400, 'GRAPHQL_VALIDATION_EXCEPTION', extensions);
    }
  }
  class RouteNotFoundException extends BaseException {
    constructor(path) {
      super(`Route ${path} doesn't exist.`, 404, 'ROUTE_NOT_FOUND');
    }
  }
  class RangeNotSatisfiableException extends BaseException {
    constructor(range) {
      super(`Range "${range.start}-${range.end}" is invalid or the file's size doesn't match the requested range.`, 416, 'RANGE_NOT_SATISFIABLE');
    }
  }
  class MethodNotAllowedException extends BaseException {
    constructor(message = 'Method not allowed.', extensions = { allow: [] }) {
      super(message, 405, 'METHOD_NOT_ALLOWED', extensions);
    }
  }
  class FailedValidationException extends BaseException {
    constructor(error) {
      const extensions = { field: error.path?.[0] };
      const type = String(error.type || '');
      const ctx = error.context || {};
      const valids = ctx.valids || [];
      if (type.endsWith('only')) {
        if (valids.length > 1) Object.assign(extensions, { type: 'in', valid: valids });
        else if (valids[0] === null) extensions.type = 'null';
        else if (valids[0] === '') extensions.type = 'empty';
        else Object.assign(extensions, { type: 'eq', valid: valids[0] });
      } else if (type.endsWith('invalid')) {
        const invalids = ctx.invalids || [];
        if (invalids.length > 1) Object.assign(extensions, { type: 'nin', invalid: invalids });
        else if (invalids[0] === null) extensions.type = 'nnull';
        else if (invalids[0] === '') extensions.type = 'nempty';
        else Object.assign(extensions, { type: 'neq', invalid: invalids[0] });
      } else if (/(greater|min|less|max)$/.test(type)) {
        const map = { greater: 'gt', min: 'gte', less: 'lt', max: 'lte' };
        Object.assign(extensions, { type: map[type.match(/(greater|min|less|max)$/)[1]], valid: ctx.limit });
      } else if (/n?contains$/.test(type)) {
        Object.assign(extensions, { type: type.match(/n?contains$/)[0], substring: ctx.substring });
      } else if (type.endsWith('required')) {
        extensions.type = 'required';
      } else if (type.endsWith('.pattern.base')) {
        Object.assign(extensions, { type: 'regex', invalid: ctx.value });
      }
      super(error.message, 400, 'FAILED_VALIDATION', extensions);
    }
  }

  // Every exception class a service throws, in one list: [name, status, code, default message].
  // The first group is what rc.83 hands to hooks as `exceptions` (spec §3.1); the database
  // exceptions (§3.2) are thrown by the services but not exported, as in Directus. A service
  // error coming back from Rust becomes an instance of the class of its code (`toException`).
  const table = [
    ['FailedValidationException', 400, 'FAILED_VALIDATION'],
    ['ForbiddenException', 403, 'FORBIDDEN'],
    ['GraphQLValidationException', 400, 'GRAPHQL_VALIDATION_EXCEPTION'],
    ['HitRateLimitException', 429, 'REQUESTS_EXCEEDED'],
    ['IllegalAssetTransformation', 400, 'ILLEGAL_ASSET_TRANSFORMATION'],
    ['InvalidCredentialsException', 401, 'INVALID_CREDENTIALS', 'Invalid user credentials.'],
    ['InvalidIPException', 401, 'INVALID_IP', 'Invalid IP address.'],
    ['InvalidOTPException', 401, 'INVALID_OTP', 'Invalid user OTP.'],
    ['InvalidPayloadException', 400, 'INVALID_PAYLOAD'],
    ['InvalidQueryException', 400, 'INVALID_QUERY'],
    ['MethodNotAllowedException', 405, 'METHOD_NOT_ALLOWED'],
    ['RangeNotSatisfiableException', 416, 'RANGE_NOT_SATISFIABLE'],
    ['RouteNotFoundException', 404, 'ROUTE_NOT_FOUND'],
    ['ServiceUnavailableException', 503, 'SERVICE_UNAVAILABLE'],
    ['UnprocessableEntityException', 422, 'UNPROCESSABLE_ENTITY'],
    ['UserSuspendedException', 401, 'USER_SUSPENDED', 'User suspended.'],
  ];
  const databaseTable = [
    ['RecordNotUniqueException', 400, 'RECORD_NOT_UNIQUE'],
    ['NotNullViolationException', 400, 'NOT_NULL_VIOLATION'],
    ['InvalidForeignKeyException', 400, 'INVALID_FOREIGN_KEY'],
    ['ValueTooLongException', 400, 'VALUE_TOO_LONG'],
    ['ValueOutOfRangeException', 400, 'VALUE_OUT_OF_RANGE'],
    ['ContainsNullValuesException', 400, 'CONTAINS_NULL_VALUES'],
  ];
  // Classes whose constructors take something other than (message, extensions).
  const special = { FailedValidationException, ForbiddenException, GraphQLValidationException, MethodNotAllowedException, RangeNotSatisfiableException, RouteNotFoundException };
  const build = ([name, status, code, defaultMessage]) => special[name] ?? simple(name, status, code, defaultMessage);

  rectus.exceptions = { BaseException };
  for (const row of table) rectus.exceptions[row[0]] = build(row);
  const byCode = {};
  for (const row of table) byCode[row[2]] = rectus.exceptions[row[0]];
  for (const row of databaseTable) byCode[row[2]] = build(row);

  // A service's error as the exception a hook catches: an instance of its code's class (or of
  // BaseException for a code of its own) carrying the error's message, status and extensions,
  // whatever that class's constructor takes. Internal errors are plain `Error`s, as in Directus.
  rectus.toException = (e) => {
    if (e.internal) return new Error(e.message);
    return Reflect.construct(BaseException, [e.message, e.status, e.code, e.extensions ?? {}], byCode[e.code] ?? BaseException);
  };

  // What crosses into Rust when a hook throws: a Directus exception keeps status/code/extensions;
  // anything else becomes an internal error (500, message for admins only).
  rectus.normalizeError = (e) => {
    if (e instanceof BaseException) {
      let extensions = {};
      try {
        extensions = JSON.parse(JSON.stringify(e.extensions ?? {}));
      } catch {}
      return { status: e.status, code: e.code, message: String(e.message), extensions, internal: false };
    }
    if (e && e.__rectusTerminated) return e;
    const message = e instanceof Error ? e.message : e && typeof e === 'object' ? e.message : undefined;
    return { status: 500, code: 'INTERNAL_SERVER_ERROR', message: message === undefined ? String(e) : String(message), extensions: {}, internal: true };
  };
})(globalThis);
