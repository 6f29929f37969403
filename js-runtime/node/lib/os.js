// Node's `os` for a Linux host. Host facts come from one op; the rest is fixed.
const constants = require('../generated/constants.js').os;

let info;
const host = () => (info ||= Deno.core.ops.op_node_os_info());

module.exports = {
  EOL: '\n',
  constants,
  arch: () => globalThis.process.arch,
  platform: () => 'linux',
  type: () => 'Linux',
  release: () => host().release,
  version: () => host().release,
  machine: () => host().machine,
  hostname: () => host().hostname,
  homedir: () => globalThis.process.env.HOME || '/',
  tmpdir: () => (globalThis.process.env.TMPDIR || '/tmp').replace(/(.)\/$/, '$1'),
  endianness: () => 'LE',
  uptime: () => host().uptime,
  loadavg: () => [0, 0, 0],
  totalmem: () => host().totalmem,
  freemem: () => host().freemem,
  availableParallelism: () => host().cpus,
  cpus: () => Array.from({ length: host().cpus }, () => ({ model: 'unknown', speed: 0, times: { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 } })),
  networkInterfaces: () => ({}),
  userInfo: () => ({ uid: -1, gid: -1, username: globalThis.process.env.USER || 'rectus', homedir: module.exports.homedir(), shell: null }),
  devNull: '/dev/null',
};
