// `sharp` for hooks when a hook's own copy is missing or its native addon can't load: the same
// API (a chainable Duplex stream whose calls collect one pipeline), rendered by the `image`
// crate in crates/hooks/src/node/sharp.rs, which has the order of operations and what differs
// from libvips. Argument checks throw sharp's own messages; failures while rendering reject
// with them (`Input buffer contains unsupported image format`, `extract_area: bad extract area`).
const { Buffer } = require('buffer/');
const EventEmitter = require('events/');
const { Duplex } = require('./stream.js');
const colorString = require('color-string');
const ops = Deno.core.ops;

const is = {
  defined: (v) => v !== undefined && v !== null,
  object: (v) => typeof v === 'object' && v !== null,
  plainObject: (v) => Object.prototype.toString.call(v) === '[object Object]',
  fn: (v) => typeof v === 'function',
  bool: (v) => typeof v === 'boolean',
  bytes: (v) => v instanceof Uint8Array,
  number: (v) => typeof v === 'number' && !Number.isNaN(v),
  integer: (v) => Number.isInteger(v),
  inRange: (v, min, max) => v >= min && v <= max,
  string: (v) => typeof v === 'string' && v.length > 0,
};

function invalidParameterError(name, expected, actual) {
  return new Error(`Expected ${expected} for ${name} but received ${actual} of type ${typeof actual}`);
}

// Named positions of `resize`: gravities, CSS-like positions and the two strategies.
const gravity = { center: 0, centre: 0, north: 1, east: 2, south: 3, west: 4, northeast: 5, southeast: 6, southwest: 7, northwest: 8 };
const position = { top: 1, right: 2, bottom: 3, left: 4, 'right top': 5, 'right bottom': 6, 'left bottom': 7, 'left top': 8 };
const strategy = { entropy: 16, attention: 17 };
const kernel = { nearest: 'nearest', cubic: 'cubic', mitchell: 'mitchell', lanczos2: 'lanczos2', lanczos3: 'lanczos3' };
const fit = { contain: 'contain', cover: 'cover', fill: 'fill', inside: 'inside', outside: 'outside' };

const FORMATS = ['heic', 'heif', 'avif', 'jpeg', 'jpg', 'png', 'raw', 'tiff', 'tif', 'webp', 'gif', 'jp2', 'jpx', 'j2k', 'j2c'];
const OUTPUTS = { jpeg: 'jpeg', jpg: 'jpeg', png: 'png', webp: 'webp', gif: 'gif', raw: 'raw' };
const format = Object.fromEntries(
  ['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif', 'raw'].map((id) => {
    const supported = id in OUTPUTS;
    return [id, { id, input: { file: supported, buffer: supported, stream: supported }, output: { file: supported, buffer: supported, stream: supported } }];
  }),
);

// A colour as sharp takes it (`'#ff0000'`, `'rgba(0,0,0,0.5)'`, `'red'`, `{ r, g, b, alpha }`)
// as [r, g, b, alpha 0-255].
function colour(value) {
  if (is.object(value)) {
    const { r = 0, g = 0, b = 0, alpha = 1 } = value;
    return [r, g, b, Math.round(alpha * 255)].map((c) => Math.max(0, Math.min(255, Math.round(c))));
  }
  const rgba = typeof value === 'string' ? colorString.get.rgb(value) : null;
  if (!rgba) throw new Error(`Unable to parse color from string: ${value}`);
  return [rgba[0], rgba[1], rgba[2], Math.round(rgba[3] * 255)];
}

function inputDescriptor(input, options, allowStream) {
  const d = { file: null, bytes: null, stream: false, raw: null, create: null, limitInputPixels: 0x3fff * 0x3fff };
  if (is.string(input)) d.file = input;
  else if (is.bytes(input)) {
    if (input.length === 0) throw Error(Buffer.isBuffer(input) ? 'Input Buffer is empty' : 'Input Bit Array is empty');
    d.bytes = input;
  } else if (is.plainObject(input) && !is.defined(options)) {
    options = input;
    if (!is.object(options.create)) d.stream = true;
  } else if (!is.defined(input) && !is.defined(options) && allowStream) d.stream = true;
  else throw new Error(`Unsupported input '${input}' of type ${typeof input}${is.defined(options) ? ` when also providing options of type ${typeof options}` : ''}`);
  if (is.object(options)) {
    if (is.defined(options.failOnError) && !is.bool(options.failOnError)) throw invalidParameterError('failOnError', 'boolean', options.failOnError);
    if (is.defined(options.density) && !is.inRange(options.density, 1, 100000)) throw invalidParameterError('density', 'number between 1 and 100000', options.density);
    if (is.defined(options.limitInputPixels)) {
      const limit = options.limitInputPixels;
      if (is.bool(limit)) d.limitInputPixels = limit ? 0x3fff * 0x3fff : 0;
      else if (is.integer(limit) && limit >= 0) d.limitInputPixels = limit;
      else throw invalidParameterError('limitInputPixels', 'integer >= 0', limit);
    }
    if (is.defined(options.raw)) {
      const { width, height, channels } = options.raw;
      if (!(is.object(options.raw) && is.integer(width) && width > 0 && is.integer(height) && height > 0 && is.integer(channels) && is.inRange(channels, 1, 4))) {
        throw new Error('Expected width, height and channels for raw pixel input');
      }
      d.raw = { width, height, channels };
    }
    if (is.defined(options.create)) {
      const { width, height, channels, background } = options.create;
      if (!(is.integer(width) && width > 0 && is.integer(height) && height > 0 && is.integer(channels))) {
        throw new Error('Expected valid width, height and channels to create a new input image');
      }
      if (!is.inRange(channels, 3, 4)) throw invalidParameterError('create.channels', 'number between 3 and 4', channels);
      if (!is.defined(background)) throw new Error('Expected valid noise or background to create a new input image');
      d.create = { width, height, channels, background: colour(background) };
    }
  } else if (is.defined(options)) throw new Error('Invalid input options ' + options);
  return d;
}

const settled = (promise, callback, ...shape) =>
  promise.then(
    (value) => callback(null, ...shape.map((f) => f(value))),
    (error) => callback(error),
  );

// Errors from the op arrive as plain messages: sharp's, for hooks that match on them.
const rethrow = (e) => {
  throw new Error(e?.message ?? String(e));
};

// What `clone()` constructs with: the copy takes its input and options from the original.
const CLONE = Symbol('clone');

class Sharp extends Duplex {
  constructor(input, options) {
    super({ objectMode: false });
    this.options = {
      input: input === CLONE ? null : inputDescriptor(input, options, true),
      autoOrient: false,
      angle: 0,
      rotationBackground: [0, 0, 0, 255],
      rotateBeforePreExtract: false,
      flip: false,
      flop: false,
      extractPre: null,
      extractPost: null,
      resize: null,
      extend: null,
      flatten: null,
      greyscale: false,
      removeAlpha: false,
      ensureAlpha: null,
      output: { format: '', quality: null, compressionLevel: null },
    };
    this._chunks = [];
    this._streamed = null;
    this._outputStarted = false;
    if (this.options.input?.stream) {
      this._streamed = new Promise((resolve) => this.once('finish', () => resolve(Buffer.concat(this._chunks))));
    }
  }

  // Writable side: the input, when the constructor got none.
  _write(chunk, encoding, callback) {
    if (!this.options.input.stream) return callback(new Error('Unexpected data on Writable Stream'));
    if (!is.bytes(chunk)) return callback(new Error('Non-Buffer data on Writable Stream'));
    this._chunks.push(chunk);
    callback();
  }

  // Readable side: the output, rendered when first read.
  _read() {
    if (this._outputStarted) return;
    this._outputStarted = true;
    this._render(null).then(
      ({ data, info }) => {
        this.emit('info', info);
        this.push(data);
        this.push(null);
      },
      (error) => this.destroy(error),
    );
  }

  async _inputBytes() {
    const input = this.options.input;
    if (input.stream) return this._streamed;
    return input.bytes ?? new Uint8Array(0);
  }

  async _render(file) {
    const { input, ...pipeline } = this.options;
    const bytes = await this._inputBytes();
    const descriptor = { file: input.file, raw: input.raw, create: input.create, limitInputPixels: input.limitInputPixels };
    const rendered = await ops.op_sharp_pipeline(descriptor, bytes, { ...pipeline, output: { ...pipeline.output, file } }).catch(rethrow);
    return { data: rendered.data ? Buffer.from(rendered.data.buffer, rendered.data.byteOffset, rendered.data.length) : undefined, info: rendered.info };
  }

  // A new pipeline on the same input (streamed input included, once it has arrived).
  clone() {
    const copy = new Sharp(CLONE);
    copy.options = { ...structuredClone({ ...this.options, input: null }), input: this.options.input };
    copy._streamed = this._streamed;
    return copy;
  }

  // ----- input -----
  metadata(callback) {
    const run = (async () => {
      const input = this.options.input;
      const descriptor = { file: input.file, raw: input.raw, create: input.create, limitInputPixels: input.limitInputPixels };
      return ops.op_sharp_metadata(descriptor, await this._inputBytes()).catch(rethrow);
    })();
    if (is.fn(callback)) {
      settled(run, callback, (m) => m);
      return this;
    }
    return run;
  }

  // ----- resize -----
  resize(width, height, options) {
    const r = { width: undefined, height: undefined, fit: 'cover', position: 0, background: [0, 0, 0, 255], withoutEnlargement: false, withoutReduction: false, kernel: 'lanczos3' };
    if (is.defined(width)) {
      if (is.object(width) && !is.defined(options)) options = width;
      else if (is.integer(width) && width > 0) r.width = width;
      else throw invalidParameterError('width', 'positive integer', width);
    }
    if (is.defined(height)) {
      if (is.integer(height) && height > 0) r.height = height;
      else throw invalidParameterError('height', 'positive integer', height);
    }
    if (is.object(options)) {
      for (const side of ['width', 'height']) {
        if (!is.defined(options[side])) continue;
        if (is.integer(options[side]) && options[side] > 0) r[side] = options[side];
        else throw invalidParameterError(side, 'positive integer', options[side]);
      }
      if (is.defined(options.fit)) {
        if (!(options.fit in fit)) throw invalidParameterError('fit', 'valid fit', options.fit);
        r.fit = options.fit;
      }
      if (is.defined(options.position)) {
        const p = is.integer(options.position) ? options.position : strategy[options.position] ?? position[options.position] ?? gravity[options.position];
        if (!(is.integer(p) && (is.inRange(p, 0, 8) || is.inRange(p, 16, 17)))) throw invalidParameterError('position', 'valid position/gravity/strategy', options.position);
        r.position = p;
      }
      if (is.defined(options.background)) r.background = colour(options.background);
      if (is.defined(options.kernel)) {
        if (!(options.kernel in kernel)) throw invalidParameterError('kernel', 'valid kernel name', options.kernel);
        r.kernel = options.kernel;
      }
      for (const flag of ['withoutEnlargement', 'withoutReduction', 'fastShrinkOnLoad']) {
        if (!is.defined(options[flag])) continue;
        if (!is.bool(options[flag])) throw invalidParameterError(flag, 'boolean', options[flag]);
        if (flag !== 'fastShrinkOnLoad') r[flag] = options[flag];
      }
    }
    this.options.resize = r;
    return this;
  }

  extend(extend) {
    const e = { top: 0, bottom: 0, left: 0, right: 0, background: [0, 0, 0, 255] };
    if (is.integer(extend) && extend > 0) Object.assign(e, { top: extend, bottom: extend, left: extend, right: extend });
    else if (is.object(extend)) {
      for (const side of ['top', 'bottom', 'left', 'right']) {
        if (!is.defined(extend[side])) continue;
        if (!(is.integer(extend[side]) && extend[side] >= 0)) throw invalidParameterError(side, 'positive integer', extend[side]);
        e[side] = extend[side];
      }
      if (is.defined(extend.background)) e.background = colour(extend.background);
    } else throw invalidParameterError('extend', 'integer or object', extend);
    this.options.extend = e;
    return this;
  }

  // Before a `resize` it cuts the input, after one the resized image.
  extract(options) {
    const region = {};
    for (const name of ['left', 'top', 'width', 'height']) {
      const value = options?.[name];
      if (!(is.integer(value) && value >= 0)) throw invalidParameterError(name, 'integer', value);
      region[name] = value;
    }
    const resized = this.options.resize && (this.options.resize.width !== undefined || this.options.resize.height !== undefined);
    if (resized) this.options.extractPost = region;
    else {
      this.options.extractPre = region;
      if (this.options.autoOrient || this.options.angle % 360 !== 0) this.options.rotateBeforePreExtract = true;
    }
    return this;
  }

  // ----- operations -----
  rotate(angle, options) {
    if (!is.defined(angle)) this.options.autoOrient = true;
    else if (is.number(angle)) {
      this.options.angle = angle;
      if (is.object(options) && is.defined(options.background)) this.options.rotationBackground = colour(options.background);
    } else throw invalidParameterError('angle', 'numeric', angle);
    return this;
  }

  flip(flip) {
    this.options.flip = is.bool(flip) ? flip : true;
    return this;
  }

  flop(flop) {
    this.options.flop = is.bool(flop) ? flop : true;
    return this;
  }

  flatten(options) {
    if (options === false) this.options.flatten = null;
    else this.options.flatten = is.object(options) && is.defined(options.background) ? colour(options.background) : [0, 0, 0, 255];
    return this;
  }

  greyscale(greyscale) {
    this.options.greyscale = is.bool(greyscale) ? greyscale : true;
    return this;
  }

  grayscale(grayscale) {
    return this.greyscale(grayscale);
  }

  removeAlpha() {
    this.options.removeAlpha = true;
    return this;
  }

  ensureAlpha(alpha) {
    if (is.defined(alpha) && !(is.number(alpha) && is.inRange(alpha, 0, 1))) throw invalidParameterError('alpha', 'number between 0 and 1', alpha);
    this.options.ensureAlpha = Math.round((alpha ?? 1) * 255);
    return this;
  }

  // Metadata is not copied into the output (see sharp.rs); accepted so chains keep working.
  withMetadata() {
    return this;
  }

  timeout() {
    return this;
  }

  // ----- output -----
  _format(name, options, quality) {
    this.options.output.format = is.object(options) && options.force === false ? '' : name;
    if (quality) {
      if (is.defined(options?.quality)) {
        if (!(is.integer(options.quality) && is.inRange(options.quality, 1, 100))) throw invalidParameterError('quality', 'integer between 1 and 100', options.quality);
        this.options.output.quality = options.quality;
      }
    }
    if (is.defined(options?.progressive) && !is.bool(options.progressive)) throw invalidParameterError('progressive', 'boolean', options.progressive);
    return this;
  }

  jpeg(options) {
    return this._format('jpeg', options, true);
  }

  png(options) {
    if (is.defined(options?.compressionLevel)) {
      if (!(is.integer(options.compressionLevel) && is.inRange(options.compressionLevel, 0, 9))) throw invalidParameterError('compressionLevel', 'integer between 0 and 9', options.compressionLevel);
      this.options.output.compressionLevel = options.compressionLevel;
    }
    return this._format('png', options, false);
  }

  webp(options) {
    if (is.defined(options?.lossless) && !is.bool(options.lossless)) throw invalidParameterError('lossless', 'boolean', options.lossless);
    return this._format('webp', options, true);
  }

  gif(options) {
    return this._format('gif', options, false);
  }

  raw() {
    return this._format('raw', undefined, false);
  }

  toFormat(name, options) {
    const id = is.object(name) && is.string(name.id) ? name.id : name;
    if (!FORMATS.includes(id)) throw invalidParameterError('format', `one of: ${FORMATS.join(', ')}`, name);
    if (!(id in OUTPUTS)) throw new Error(`${id} output is not available to Rectus hooks (jpeg, png, webp, gif and raw are)`);
    return OUTPUTS[id] === 'raw' ? this.raw() : this[OUTPUTS[id]](options);
  }

  toBuffer(options, callback) {
    if (is.fn(options)) [options, callback] = [undefined, options];
    let withInfo = false;
    if (is.object(options) && is.defined(options.resolveWithObject)) {
      if (!is.bool(options.resolveWithObject)) throw invalidParameterError('resolveWithObject', 'boolean', options.resolveWithObject);
      withInfo = options.resolveWithObject;
    }
    const run = this._render(null);
    if (is.fn(callback)) {
      settled(run, callback, (r) => r.data, (r) => r.info);
      return this;
    }
    return run.then((r) => (withInfo ? r : r.data));
  }

  toFile(fileOut, callback) {
    let error = null;
    if (!fileOut || typeof fileOut !== 'string') error = new Error('Missing output file path');
    else if (this.options.input.file === fileOut) error = new Error('Cannot use same file for input and output');
    const run = error ? Promise.reject(error) : this._render(fileOut).then((r) => r.info);
    if (is.fn(callback)) {
      settled(run, callback, (info) => info);
      return this;
    }
    return run;
  }
}

// Everything else sharp has (composite, blur, sharpen, modulate, tint, stats, ...) says so.
for (const name of ['composite', 'blur', 'sharpen', 'median', 'gamma', 'negate', 'normalise', 'normalize', 'clahe', 'convolve', 'threshold', 'boolean', 'linear', 'recomb', 'modulate', 'tint', 'toColourspace', 'toColorspace', 'extractChannel', 'joinChannel', 'bandbool', 'trim', 'affine', 'stats', 'tiff', 'avif', 'heif', 'jp2', 'tile']) {
  Sharp.prototype[name] = () => {
    throw new Error(`sharp.${name}() is not available to Rectus hooks`);
  };
}

function sharp(input, options) {
  return new Sharp(input, options);
}
sharp.prototype = Sharp.prototype;
Object.assign(sharp, {
  gravity,
  strategy,
  kernel,
  fit,
  position,
  format,
  versions: {},
  queue: new EventEmitter(),
  cache: () => ({ memory: { current: 0, high: 0, max: 0 }, files: { current: 0, max: 0 }, items: { current: 0, max: 0 } }),
  concurrency: () => 1,
  counters: () => ({ queue: 0, process: 0 }),
  simd: () => false,
});

module.exports = sharp;
