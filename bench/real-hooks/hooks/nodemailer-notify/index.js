// Mails the editors about new articles (JSON transport: nothing leaves the machine).
const nodemailer = require('nodemailer');

module.exports = function registerHook({ env }) {
  const transport = nodemailer.createTransport({ jsonTransport: true });
  return {
    'items.create': async ({ collection, item }) => {
      if (collection !== 'articles') return;
      await transport.sendMail({ from: env.EMAIL_FROM || 'cms@example.com', to: 'editors@example.com', subject: `New article ${item}`, text: 'See the CMS.' });
    },
  };
};
