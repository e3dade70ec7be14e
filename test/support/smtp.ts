// A real SMTP server (the smtp-server package) on a local port; received mails are parsed with mailparser.
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export class MailCatcher {
  readonly mails: ParsedMail[] = [];
  /** When set, every message is refused with this SMTP reply code. */
  rejectWith?: number;
  private server?: SMTPServer;
  port = 0;

  async start(port = 0): Promise<number> {
    this.server = new SMTPServer({
      authOptional: true,
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onAuth: (_auth, _session, cb) => cb(null, { user: 'test' }),
      onData: (stream, _session, cb) => {
        void simpleParser(stream).then((mail) => {
          if (this.rejectWith) {
            const err = Object.assign(new Error('mailbox unavailable'), { responseCode: this.rejectWith });
            return cb(err);
          }
          this.mails.push(mail);
          cb();
        }, cb);
      },
    });
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', r));
    this.port = (this.server as unknown as { server: { address(): AddressInfo } }).server.address().port;
    return this.port;
  }

  async close(): Promise<void> {
    await new Promise<void>((r) => this.server?.close(() => r()));
  }
}
