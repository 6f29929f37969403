// node:stream/web: the WHATWG streams of the web-streams-polyfill package, and the text
// streams Node adds to them, on lib/text.js's codecs (SDKs such as openai 4 require this module
// to read streamed responses). Not here: CompressionStream and DecompressionStream.
const streams = require('web-streams-polyfill');
const { TextEncoder, TextDecoder } = require('./text.js');

class TextEncoderStream extends streams.TransformStream {
  constructor() {
    const encoder = new TextEncoder();
    // A surrogate pair split between two chunks is encoded as two replacement characters (the
    // standard keeps the first half for the next chunk).
    super({
      transform(chunk, controller) {
        const bytes = encoder.encode(String(chunk));
        if (bytes.length > 0) controller.enqueue(bytes);
      },
    });
  }

  get encoding() {
    return 'utf-8';
  }
}

class TextDecoderStream extends streams.TransformStream {
  #decoder;

  constructor(label = 'utf-8', options = {}) {
    const decoder = new TextDecoder(label, options);
    super({
      transform(chunk, controller) {
        const text = decoder.decode(chunk, { stream: true });
        if (text) controller.enqueue(text);
      },
      flush(controller) {
        const text = decoder.decode();
        if (text) controller.enqueue(text);
      },
    });
    this.#decoder = decoder;
  }

  get encoding() {
    return this.#decoder.encoding;
  }

  get fatal() {
    return this.#decoder.fatal;
  }

  get ignoreBOM() {
    return this.#decoder.ignoreBOM;
  }
}

module.exports = { ...streams, TextEncoderStream, TextDecoderStream };
