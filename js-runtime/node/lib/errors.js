// Errors from the network ops (crates/hooks/src/node/net.rs, http.rs) arrive as
// `CODE: message`; they become Node-style errors with `code` (and `errno`, `syscall`).
const { errno } = require('../generated/constants.js').os;

function systemError(e, extra) {
  const m = /^([A-Z_]+): ([\s\S]*)$/.exec(e?.message ?? '');
  if (!m) return e;
  const err = new Error(m[2]);
  err.code = m[1];
  if (errno[m[1]] !== undefined) err.errno = -errno[m[1]];
  const syscall = /^(\w+) /.exec(m[2]);
  if (syscall && syscall[1] !== m[1]) err.syscall = syscall[1];
  return Object.assign(err, extra);
}

function abortError(reason) {
  const e = new Error('The operation was aborted', reason === undefined ? undefined : { cause: reason });
  e.name = 'AbortError';
  e.code = 'ABORT_ERR';
  return e;
}

module.exports = { systemError, abortError };
