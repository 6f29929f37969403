// Hooks have no terminal: nothing is a TTY (packages such as `debug` check this for colours).
module.exports = { isatty: () => false, ReadStream: class ReadStream {}, WriteStream: class WriteStream {} };
