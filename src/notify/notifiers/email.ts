// The email notifier: nodemailer over SMTP, or, with no SMTP configured, .eml files in an outbox folder.
import * as path from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import { z } from 'zod';
import { writeFileAtomic } from '../../fs/atomic';
import { DeliveryError } from '../../model/errors';
import { emailContent } from './formats/email-message';
import { templateSchema } from './formats/template';
import type { Notifier, NotifierFactory } from '../notifier';
import { parseOptions } from '../options';

const address = z.string().min(3).regex(/@/, 'an email address');

const smtpSchema = z.union([
  z.strictObject({ url: z.string().regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://') }),
  z.strictObject({
    host: z.string().min(1),
    port: z.number().int().positive().default(587),
    secure: z.boolean().default(false),
    auth: z.strictObject({ user: z.string(), pass: z.string() }).optional(),
  }),
]);

const optionsSchema = z.strictObject({
  type: z.literal('email'),
  to: z.union([address, z.array(address).min(1)]),
  from: address.default('steprun-watch@localhost'),
  /** Put before every subject, e.g. "[prod] ". */
  subject: z.string().default(''),
  smtp: smtpSchema.optional(),
  /** Where messages go without SMTP (default <data-dir>/outbox). */
  outbox: z.string().optional(),
  /** Mustache subject and text instead of the built-in wording. */
  template: templateSchema.optional(),
});

export const emailNotifierFactory: NotifierFactory = (raw, ctx): Notifier => {
  const o = parseOptions(optionsSchema, raw, ctx.name);
  const outbox = path.resolve(ctx.dataDir, o.outbox ?? 'outbox');
  const transport: Transporter = o.smtp
    ? nodemailer.createTransport(
        'url' in o.smtp
          ? o.smtp.url
          : {
              host: o.smtp.host,
              port: o.smtp.port,
              secure: o.smtp.secure,
              auth: o.smtp.auth,
              connectionTimeout: 10000,
              greetingTimeout: 10000,
              socketTimeout: 30000,
            },
      )
    : nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    type: 'email',
    name: ctx.name,
    async deliver(event, delivery) {
      const content = emailContent(event, o.subject, o.template);
      // A stable Message-ID: a mail sent twice (crash between send and mark) is recognisably the same mail.
      const message = {
        from: o.from,
        to: o.to,
        subject: content.subject,
        text: content.text,
        html: content.html,
        messageId: `<${delivery.deliveryId}@steprun-watch>`,
        headers: { 'X-Steprun-Watch-Event': event.id },
      };
      let info: { message?: Buffer; messageId?: string };
      try {
        info = (await transport.sendMail(message)) as { message?: Buffer; messageId?: string };
      } catch (err) {
        throw smtpError(err);
      }
      if (o.smtp) return { detail: `sent ${info.messageId ?? ''}`.trim() };
      const file = path.join(outbox, `${event.time.replace(/[:.]/g, '-')}_${delivery.deliveryId}.eml`);
      await writeFileAtomic(file, info.message ?? Buffer.alloc(0));
      return { detail: `written to ${file}` };
    },
    async close() {
      transport.close();
    },
  };
};

/** SMTP 5xx and bad credentials will not fix themselves; connection trouble and 4xx will be retried. */
function smtpError(err: unknown): DeliveryError {
  const e = err as Error & { code?: string; responseCode?: number };
  const permanent = (e.responseCode !== undefined && e.responseCode >= 500) || e.code === 'EAUTH' || e.code === 'EENVELOPE';
  return new DeliveryError(`SMTP: ${e.message}`, { retryable: !permanent, cause: err });
}
