// Renders Liquid templates stored on pages.
const { Liquid } = require('liquidjs');

module.exports = function registerHook() {
  const engine = new Liquid();
  return {
    'items.create.before': async (input, { collection }) =>
      collection === 'pages' && input.template ? { ...input, rendered: await engine.parseAndRender(input.template, input) } : input,
  };
};
