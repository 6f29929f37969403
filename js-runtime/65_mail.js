// `services.MailService`: `send(options)` runs the Rust mailer (op_rectus_mail) with nodemailer-style
// options plus `template: {name, data}`; a failure rejects with the matching exception
// (InvalidPayloadException for bad options or templates, ServiceUnavailableException when the
// transport fails).
((globalThis) => {
  const ops = Deno.core.ops;
  const rectus = globalThis.__rectus;

  class MailService {
    constructor(options = {}) {
      this.schema = options.schema;
      this.accountability = options.accountability ?? null;
      this.knex = options.knex ?? rectus.database;
    }

    async send(options) {
      const result = await ops.op_rectus_mail(rectus.plain(options ?? {}));
      if (result.error) throw rectus.toException(result.error);
    }
  }

  rectus.services.MailService = MailService;
})(globalThis);
