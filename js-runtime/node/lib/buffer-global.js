// Free `Buffer` references in the polyfills use the npm package directly rather than the lazy
// global, which would evaluate this bundle's entry again.
export { Buffer } from 'buffer/';
