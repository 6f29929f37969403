// A custom endpoint on Directus's `app`, answered with a knex query:
// GET /custom/status-counts/:collection → { data: { draft: 2, published: 5, ... } }.
module.exports = function registerHook({ database, exceptions }) {
  const { ForbiddenException } = exceptions;
  return {
    'routes.custom.init.before': ({ app }) => {
      app.get('/custom/status-counts/:collection', async (req, res) => {
        if (!req.accountability || !req.accountability.admin) throw new ForbiddenException();
        const rows = await database(req.params.collection).select('status').count('* as n').groupBy('status').orderBy('status');
        res.json({ data: Object.fromEntries(rows.map((r) => [r.status, Number(r.n)])) });
      });
    },
  };
};
