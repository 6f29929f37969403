// The `depd` package Express's router reports deprecated calls through: depd reads V8 call
// sites to name the caller, which QuickJS doesn't have; the message goes to the log instead.
module.exports = function depd(namespace) {
  const deprecate = (message) => console.warn(`${namespace} deprecated ${message}`);
  deprecate.function = (fn) => fn;
  deprecate.property = () => {};
  return deprecate;
};
