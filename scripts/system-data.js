#!/usr/bin/env node
// Regenerates crates/core/src/schema/system_data/*.json: the built-in rows Directus v9.0.0-rc.83
// keeps for its system collections (collection meta, field meta, relations and the permissions
// of app-access roles), read from the YAML files of the npm package and written with their
// defaults applied, as the rows Directus itself serves.
//
//   node scripts/system-data.js [path/to/node_modules/directus]
//
// Without a path it uses the oracle's install (/tmp/directus-oracle/rc83/node_modules/directus)
// when present, else downloads the package tarball (and js-yaml) with npm into a temporary folder.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

const VERSION = '9.0.0-rc.83';
const ORACLE = '/tmp/directus-oracle/rc83/node_modules/directus';
const OUT = path.join(__dirname, '..', 'crates', 'core', 'src', 'schema', 'system_data');

function packageDir() {
  const given = process.argv[2];
  if (given) return path.resolve(given);
  if (fs.existsSync(path.join(ORACLE, 'dist', 'database', 'system-data'))) return ORACLE;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rectus-system-data-'));
  const npm = (...args) => execFileSync('npm', args, { cwd: tmp, stdio: ['ignore', 'pipe', 'inherit'] }).toString().trim();
  const tarball = npm('pack', '--silent', `directus@${VERSION}`).split('\n').pop();
  execFileSync('tar', ['xzf', tarball], { cwd: tmp });
  npm('install', '--silent', '--no-save', '--no-package-lock', 'js-yaml@3');
  return path.join(tmp, 'package');
}

function yamlLoader(dir) {
  for (const from of [dir, path.dirname(dir), process.cwd()]) {
    try {
      return require(require.resolve('js-yaml', { paths: [from] }));
    } catch {}
  }
  throw new Error(`js-yaml is not installed next to ${dir}`);
}

const dir = packageDir();
const yaml = yamlLoader(dir);
const source = path.join(dir, 'dist', 'database', 'system-data');
const version = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
if (version !== VERSION) console.warn(`warning: ${dir} is directus ${version}, not ${VERSION}`);
const load = (...parts) => yaml.load(fs.readFileSync(path.join(source, ...parts), 'utf8'));

// Rows are plain objects whose defaults are scalars or flat lists, so a shallow spread gives what
// a deep merge would, in the same key order (`system` first, then the defaults' keys).
const collectionsFile = load('collections', 'collections.yaml');
const collections = collectionsFile.data.map((row) => ({ system: true, ...collectionsFile.defaults, ...row }));

const relationsFile = load('relations', 'relations.yaml');
const relations = relationsFile.data.map((row) => ({ system: true, ...relationsFile.defaults, ...row }));

const fieldDefaults = load('fields', '_defaults.yaml');
const fields = [];
for (const file of fs.readdirSync(path.join(source, 'fields')).sort()) {
  if (!file.endsWith('.yaml') || file.startsWith('_')) continue;
  const { table, fields: rows } = load('fields', file);
  rows.forEach((row, index) => fields.push({ system: true, ...fieldDefaults, ...row, collection: table, sort: index + 1 }));
}

const permissionDefaults = { role: null, permissions: {}, validation: null, presets: null, fields: ['*'], limit: null, system: true };
const appAccess = load('app-access-permissions', 'app-access-permissions.yaml').map((row) => ({ ...permissionDefaults, ...row }));

const origin = `directus@${version} dist/database/system-data`;
const write = (name, rows) => {
  fs.mkdirSync(OUT, { recursive: true });
  fs.writeFileSync(path.join(OUT, `${name}.json`), JSON.stringify({ source: origin, rows }, null, 1) + '\n');
  console.log(`${name}.json: ${rows.length} rows`);
};
write('collections', collections);
write('fields', fields);
write('relations', relations);
write('app_access_permissions', appAccess);
