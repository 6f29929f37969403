// The WHATWG `URL` and `URLSearchParams` classes on the `url` crate's parser (ops in
// crates/hooks/src/node/url.rs). A URL keeps its components as Rust computed them; each setter
// asks Rust again. `searchParams` stays in step with `search` both ways.
const ops = Deno.core.ops;

function parseOrThrow(input, base) {
  try {
    return ops.op_node_url_parse(input, base);
  } catch {
    const e = new TypeError(`Invalid URL${base === null ? '' : ` (base ${base})`}: ${input}`);
    e.code = 'ERR_INVALID_URL';
    e.input = input;
    throw e;
  }
}

const kList = Symbol('list');
const kUrl = Symbol('url');

class URLSearchParams {
  constructor(init = '') {
    this[kUrl] = null;
    if (init instanceof URLSearchParams) this[kList] = init[kList].map(([k, v]) => [k, v]);
    else if (typeof init === 'object' && init !== null && typeof init[Symbol.iterator] === 'function') {
      this[kList] = [...init].map((pair) => {
        const p = [...pair];
        if (p.length !== 2) throw new TypeError('Each query pair must be an iterable [name, value] tuple');
        return [String(p[0]), String(p[1])];
      });
    } else if (typeof init === 'object' && init !== null) this[kList] = Object.keys(init).map((k) => [k, String(init[k])]);
    else {
      const text = String(init);
      this[kList] = ops.op_node_url_parse_query(text.startsWith('?') ? text.slice(1) : text);
    }
  }
  #changed() {
    const url = this[kUrl];
    if (url) url._setSearch(this[kList].length ? ops.op_node_url_serialize_query(this[kList]) : '');
  }
  get size() {
    return this[kList].length;
  }
  append(name, value) {
    this[kList].push([String(name), String(value)]);
    this.#changed();
  }
  delete(name, value) {
    name = String(name);
    this[kList] = this[kList].filter(([k, v]) => k !== name || (value !== undefined && v !== String(value)));
    this.#changed();
  }
  get(name) {
    return this[kList].find(([k]) => k === String(name))?.[1] ?? null;
  }
  getAll(name) {
    return this[kList].filter(([k]) => k === String(name)).map(([, v]) => v);
  }
  has(name, value) {
    return this[kList].some(([k, v]) => k === String(name) && (value === undefined || v === String(value)));
  }
  set(name, value) {
    name = String(name);
    const i = this[kList].findIndex(([k]) => k === name);
    if (i < 0) this[kList].push([name, String(value)]);
    else this[kList] = this[kList].filter(([k], j) => k !== name || j === i).map((p, j) => (j === i ? [name, String(value)] : p));
    this.#changed();
  }
  sort() {
    this[kList] = this[kList].map((p, i) => [p, i]).sort(([a, i], [b, j]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : i - j)).map(([p]) => p);
    this.#changed();
  }
  forEach(fn, thisArg) {
    for (const [k, v] of this[kList]) fn.call(thisArg, v, k, this);
  }
  *entries() {
    for (const [k, v] of this[kList]) yield [k, v];
  }
  *keys() {
    for (const [k] of this[kList]) yield k;
  }
  *values() {
    for (const [, v] of this[kList]) yield v;
  }
  [Symbol.iterator]() {
    return this.entries();
  }
  toString() {
    return ops.op_node_url_serialize_query(this[kList]);
  }
  get [Symbol.toStringTag]() {
    return 'URLSearchParams';
  }
}

class URL {
  #parts;
  #params = null;
  constructor(input, base) {
    this.#parts = parseOrThrow(String(input), base === undefined ? null : String(base));
  }
  static canParse(input, base) {
    try {
      ops.op_node_url_parse(String(input), base === undefined ? null : String(base));
      return true;
    } catch {
      return false;
    }
  }
  static parse(input, base) {
    return URL.canParse(input, base) ? new URL(input, base) : null;
  }
  #set(component, value) {
    if (component === 'href') this.#parts = parseOrThrow(String(value), null);
    else this.#parts = ops.op_node_url_set(this.#parts.href, component, String(value));
    if (this.#params && (component === 'href' || component === 'search')) this.#params[kList] = ops.op_node_url_parse_query(this.#parts.search.slice(1));
  }
  // Called by the attached URLSearchParams when it changes.
  _setSearch(query) {
    this.#parts = ops.op_node_url_set(this.#parts.href, 'search', query);
  }
  get searchParams() {
    if (!this.#params) {
      this.#params = new URLSearchParams(this.#parts.search);
      this.#params[kUrl] = this;
    }
    return this.#params;
  }
  get href() { return this.#parts.href; }
  set href(v) { this.#set('href', v); }
  get origin() { return this.#parts.origin; }
  get protocol() { return this.#parts.protocol; }
  set protocol(v) { this.#set('protocol', v); }
  get username() { return this.#parts.username; }
  set username(v) { this.#set('username', v); }
  get password() { return this.#parts.password; }
  set password(v) { this.#set('password', v); }
  get host() { return this.#parts.host; }
  set host(v) { this.#set('host', v); }
  get hostname() { return this.#parts.hostname; }
  set hostname(v) { this.#set('hostname', v); }
  get port() { return this.#parts.port; }
  set port(v) { this.#set('port', v); }
  get pathname() { return this.#parts.pathname; }
  set pathname(v) { this.#set('pathname', v); }
  get search() { return this.#parts.search; }
  set search(v) { this.#set('search', v); }
  get hash() { return this.#parts.hash; }
  set hash(v) { this.#set('hash', v); }
  toString() {
    return this.#parts.href;
  }
  toJSON() {
    return this.#parts.href;
  }
  get [Symbol.toStringTag]() {
    return 'URL';
  }
}

module.exports = { URL, URLSearchParams };
