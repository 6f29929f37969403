// `services.MailService`: `send(options)` runs the Rust mailer with nodemailer-style
// options plus `template: {name, data}`; a failure rejects with the matching exception
// (InvalidPayloadException for bad options or templates, ServiceUnavailableException when the
// transport fails).
((globalThis) => {
  const rectus = globalThis.__rectus;

  class MailService extends rectus.RustService {
    static serviceName = 'MailService';

    async send(options) { await this._call('send', options ?? {}); }
  }

  rectus.services.MailService = MailService;
})(globalThis);
