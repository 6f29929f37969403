// Welcome mail through SendGrid (only with a key).
const sgMail = require('@sendgrid/mail');

module.exports = function registerHook({ env }) {
  sgMail.setApiKey(env.SENDGRID_API_KEY || 'SG.bench');
  return {
    'users.create': async ({ payload }) => {
      if (env.SENDGRID_API_KEY) await sgMail.send({ to: payload.email, from: 'cms@example.com', subject: 'Welcome', text: 'Hello' });
    },
  };
};
