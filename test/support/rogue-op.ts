// An OpenID Provider that says what the test tells it to: discovery, a JWKS and a token endpoint whose ID token
// carries the claims given (a wrong issuer, audience or nonce), signed RS256 with its own key. The certified provider
// (oidc-provider.ts) is right by construction; this one shows that the daemon refuses what a wrong one says.
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export class RogueOpenIdProvider {
  issuer = '';
  /** Claims of the next ID token, over the right ones (iss, aud, sub, iat, exp). */
  claims: Record<string, unknown> = {};
  /** Sign the next ID tokens with a key that is not the one published (a forged token). */
  forge = false;
  private server?: http.Server;
  private readonly key: KeyObject;
  private readonly jwk: Record<string, unknown>;

  constructor(private readonly clientId: string) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.key = privateKey;
    this.jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'rogue-1', alg: 'RS256', use: 'sig' };
  }

  async start(port = 0): Promise<string> {
    this.server = http.createServer((req, res) => this.answer(req, res));
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', r));
    this.issuer = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.issuer;
  }

  get port(): number {
    return Number(new URL(this.issuer).port);
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', this.issuer);
    const json = (body: unknown) => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (url.pathname === '/.well-known/openid-configuration')
      return json({
        issuer: this.issuer,
        authorization_endpoint: `${this.issuer}/authorize`,
        token_endpoint: `${this.issuer}/token`,
        jwks_uri: `${this.issuer}/jwks`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        code_challenge_methods_supported: ['S256'],
      });
    if (url.pathname === '/jwks') return json({ keys: [this.jwk] });
    if (url.pathname === '/authorize') return void res.writeHead(200).end('the browser would sign in here');
    if (url.pathname === '/token' && req.method === 'POST') {
      req.resume();
      return void req.on('end', () => json({ access_token: 'rogue-access', token_type: 'Bearer', expires_in: 300, id_token: this.idToken() }));
    }
    res.writeHead(404).end();
  }

  private idToken(): string {
    const now = Math.floor(Date.now() / 1000);
    const payload = { iss: this.issuer, aud: this.clientId, sub: 'rogue-user', email: 'someone@example.com', iat: now, exp: now + 300, ...this.claims };
    const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const signed = `${part({ alg: 'RS256', kid: 'rogue-1', typ: 'JWT' })}.${part(payload)}`;
    const key = this.forge ? generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey : this.key;
    return `${signed}.${sign('RSA-SHA256', Buffer.from(signed), key).toString('base64url')}`;
  }
}
