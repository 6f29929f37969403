// Counts creates per collection in Redis (only when REDIS_COUNTER_URL is set; never connects otherwise).
const Redis = require('ioredis');

module.exports = function registerHook({ env }) {
  const redis = env.REDIS_COUNTER_URL ? new Redis(env.REDIS_COUNTER_URL, { lazyConnect: true }) : null;
  return {
    'items.create': async ({ collection }) => {
      if (redis) await redis.incr(`creates:${collection}`).catch(() => {});
    },
  };
};
