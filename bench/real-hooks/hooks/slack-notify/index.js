// Posts new orders to Slack (only with a token).
const { WebClient } = require('@slack/web-api');

module.exports = function registerHook({ env }) {
  const slack = new WebClient(env.SLACK_TOKEN || 'xoxb-bench');
  return {
    'items.create': async ({ collection, item }) => {
      if (collection === 'orders' && env.SLACK_TOKEN) await slack.chat.postMessage({ channel: '#orders', text: `Order ${item}` });
    },
  };
};
