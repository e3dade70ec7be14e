// A throw-away certificate authority and a server certificate for 127.0.0.1, made with openssl for one test run:
// HTTPS in tests is trusted through NODE_EXTRA_CA_CERTS (the CA file), never by turning certificate checks off.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';

export interface TestCa {
  /** The CA certificate (PEM): what a client is told to trust. */
  caFile: string;
  /** The server's certificate and key (PEM), for 127.0.0.1 and localhost. */
  cert: string;
  key: string;
}

export function makeTestCa(dir: string): TestCa {
  const f = (name: string) => path.join(dir, name);
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  run([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.pem'),
    '-days',
    '1',
    '-subj',
    '/CN=steprun-watch test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1']);
  writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  run([
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-out',
    f('server.pem'),
    '-days',
    '1',
    '-extfile',
    f('server.ext'),
  ]);
  return { caFile: f('ca.pem'), cert: f('server.pem'), key: f('server.key') };
}

/**
 * An Entra-shaped access token (a JWT) for `audience`, as Azurite's basic OAuth checks it: issuer, audience, lifetime.
 * Unsigned: the emulator does not check signatures, and nothing else here accepts it.
 */
export function entraToken(audience: string, lifetimeSeconds = 3600): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const claims = {
    aud: audience,
    iss: 'https://sts.windows.net/72f988bf-0000-0000-0000-2d7cd011db47/',
    iat: now - 60,
    nbf: now - 60,
    exp: now + lifetimeSeconds,
    oid: 'srw-test-identity',
  };
  return `${part({ typ: 'JWT', alg: 'RS256' })}.${part(claims)}.c2lnbmF0dXJl`;
}
