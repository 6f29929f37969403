// Hooks can't start processes. The module loads (nodemailer requires it for its sendmail
// transport); every function throws an error naming it.
const unavailable = (name) => () => {
  throw new Error(`child_process.${name}() is not available to Rectus hooks`);
};
module.exports = Object.fromEntries(['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'].map((n) => [n, unavailable(n)]));
