// The `debug` package Express's router logs through (DEBUG=express:*): a logger that is never
// enabled, so the bundle doesn't carry debug's Node stream and tty handling.
module.exports = function debug(namespace) {
  const log = () => {};
  log.enabled = false;
  log.namespace = namespace;
  return log;
};
