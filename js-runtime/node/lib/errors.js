// Errors from the network ops (crates/hooks/src/node/net.rs, http.rs) arrive as
// `CODE: message`; they become Node-style errors with `code` (and `errno`, `syscall`).
const { errno } = require('../generated/constants.js').os;

function systemError(e, extra) {
  const m = /^([A-Z][A-Z0-9_]*): ([\s\S]*)$/.exec(e?.message ?? '');
  if (!m) return e;
  const err = new Error(m[2]);
  err.code = m[1];
  if (errno[m[1]] !== undefined) err.errno = -errno[m[1]];
  // `connect ECONNREFUSED 127.0.0.1:1`: the word before the code is the system call.
  const syscall = /^(\w+) ([A-Z]+)\b/.exec(m[2]);
  if (syscall && syscall[2] === m[1]) err.syscall = syscall[1];
  return Object.assign(err, extra);
}

function abortError(reason) {
  const e = new Error('The operation was aborted', reason === undefined ? undefined : { cause: reason });
  e.name = 'AbortError';
  e.code = 'ABORT_ERR';
  return e;
}

module.exports = { systemError, abortError };
