// A local SMTP sink for the deploy test (the compose file's mail catcher is a registry image this machine cannot
// pull): takes every message on :1025 (no TLS, no auth, as mailpit in the compose file), keeps it in memory, and
// serves them as JSON on :8025 (GET /messages) with GET /readyz for the health check. Plain Node, no packages.
'use strict';
const net = require('node:net');
const http = require('node:http');

const messages = [];

net
  .createServer((socket) => {
    let buffer = '';
    let inData = false;
    let data = [];
    const reply = (line) => socket.write(`${line}\r\n`);
    reply('220 smtp-sink ESMTP');
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      let at;
      while ((at = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, at);
        buffer = buffer.slice(at + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            const raw = data.join('\r\n');
            const subject = /^Subject: (.*(?:\r\n[ \t].*)*)/im.exec(raw)?.[1].replace(/\r\n[ \t]/g, ' ') ?? '';
            messages.push({ at: Date.now(), subject: decodeSubject(subject), raw });
            data = [];
            reply('250 OK: queued');
          } else data.push(line.startsWith('..') ? line.slice(1) : line);
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') socket.write('250-smtp-sink\r\n250 8BITMIME\r\n');
        else if (verb === 'DATA') {
          inData = true;
          reply('354 End data with <CR><LF>.<CR><LF>');
        } else if (verb === 'QUIT') {
          reply('221 Bye');
          socket.end();
        } else reply('250 OK');
      }
    });
    socket.on('error', () => undefined);
  })
  .listen(1025, '0.0.0.0');

/** `=?UTF-8?Q?...?=` / `=?UTF-8?B?...?=` encoded words, as nodemailer writes non-ASCII subjects. */
function decodeSubject(text) {
  return text.replace(/=\?UTF-8\?([QB])\?([^?]*)\?=\s*/gi, (_m, kind, body) =>
    kind.toUpperCase() === 'B'
      ? Buffer.from(body, 'base64').toString('utf8')
      : Buffer.from(body.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_x, h) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8'),
  );
}

http
  .createServer((req, res) => {
    if (req.url === '/readyz') return void res.end('ok');
    if (req.url === '/messages') {
      res.setHeader('content-type', 'application/json');
      return void res.end(JSON.stringify(messages.map((m) => ({ at: m.at, subject: m.subject }))));
    }
    res.statusCode = 404;
    res.end();
  })
  .listen(8025, '0.0.0.0');

process.on('SIGTERM', () => process.exit(0));
