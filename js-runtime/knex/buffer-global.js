// knex reaches for the global `Buffer` (value escaping, binary bindings).
export { Buffer } from 'buffer';
