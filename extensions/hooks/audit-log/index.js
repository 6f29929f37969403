// Logs every write to any collection, with who made it.
module.exports = function registerHook() {
  return {
    'items.*': function ({ collection, item, accountability }) {
      if (this.event === 'items.read') return;
      console.log(`${this.event} on ${collection} (${JSON.stringify(item)}) by ${accountability?.user ?? 'system'}`);
    },
  };
};
