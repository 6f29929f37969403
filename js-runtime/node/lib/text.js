// TextEncoder and TextDecoder. UTF-8 goes through deno_core's own encode/decode ops; the other
// encodings Node's TextDecoder accepts without ICU go through Buffer.
const { Buffer } = require('buffer/');
const { StringDecoder } = require('string_decoder/');

class TextEncoder {
  get encoding() {
    return 'utf-8';
  }
  encode(input = '') {
    return Deno.core.encode(String(input));
  }
  encodeInto(input, dest) {
    const bytes = this.encode(input);
    let written = Math.min(bytes.length, dest.length);
    // Never split a character: back up to the start of a UTF-8 sequence.
    while (written < bytes.length && written > 0 && (bytes[written] & 0xc0) === 0x80) written--;
    dest.set(bytes.subarray(0, written));
    const read = Deno.core.decode(bytes.subarray(0, written)).length;
    return { read, written };
  }
}

const LABELS = {
  'utf-8': 'utf-8', utf8: 'utf-8', 'unicode-1-1-utf-8': 'utf-8',
  'utf-16le': 'utf-16le', 'utf-16': 'utf-16le',
  latin1: 'latin1', 'iso-8859-1': 'latin1', ascii: 'latin1', 'us-ascii': 'latin1', 'windows-1252': 'latin1',
};
const BUFFER_ENCODING = { 'utf-8': 'utf8', 'utf-16le': 'utf16le', latin1: 'latin1' };

function bytesOf(input) {
  if (input === undefined) return new Uint8Array(0);
  if (input instanceof ArrayBuffer || input instanceof SharedArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  throw new TypeError('The "input" argument must be an instance of ArrayBuffer or ArrayBufferView');
}

class TextDecoder {
  #decoder = null;
  constructor(label = 'utf-8', options = {}) {
    const encoding = LABELS[String(label).trim().toLowerCase()];
    if (!encoding) throw new RangeError(`The "${label}" encoding is not supported`);
    this.encoding = encoding;
    this.fatal = Boolean(options.fatal);
    this.ignoreBOM = Boolean(options.ignoreBOM);
  }
  decode(input, options = {}) {
    const bytes = bytesOf(input);
    if (options.stream || this.#decoder) {
      this.#decoder ||= new StringDecoder(BUFFER_ENCODING[this.encoding]);
      const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const out = options.stream ? this.#decoder.write(buf) : this.#decoder.end(buf);
      if (!options.stream) this.#decoder = null;
      return out;
    }
    if (this.encoding === 'utf-8') {
      const text = Deno.core.decode(bytes);
      if (this.fatal && text.includes('\ufffd') && !Buffer.from(text).equals(Buffer.from(bytes))) {
        throw new TypeError('The encoded data was not valid for encoding utf-8');
      }
      return this.ignoreBOM && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? '\ufeff' + text : text;
    }
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString(BUFFER_ENCODING[this.encoding]);
  }
}

module.exports = { TextEncoder, TextDecoder };
