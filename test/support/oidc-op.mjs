// A certified OpenID Provider (the oidc-provider package) on a local port, for the sign-in tests. It is an ES module
// only, so it runs as a process of its own (test/support/oidc-provider.ts starts it): argv[2] is its settings as JSON
// ({ port, redirectUri, clientId, clientSecret, users: { login: claims } }). Its login page takes any password;
// users are known by their login. It says `ready <issuer>` on stdout once it listens.
import process from 'node:process';
import Provider from 'oidc-provider';

const { port, redirectUri, clientId, clientSecret, users } = JSON.parse(process.argv[2]);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: [redirectUri], grant_types: ['authorization_code'], response_types: ['code'] }],
  // Entra ID's shape: groups and app roles in the ID token (here for the `groups` scope).
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'], groups: ['groups', 'roles'] },
  conformIdTokenClaims: false,
  findAccount: async (_ctx, id) => (users[id] ? { accountId: id, claims: async () => ({ sub: id, ...users[id] }) } : undefined),
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
  cookies: { keys: ['steprun-watch-tests-op-cookie-key'] },
  ttl: { Session: 600, Interaction: 600, Grant: 600, AuthorizationCode: 60, IdToken: 600, AccessToken: 600 },
});
// The dev login page takes any password: only the login names the user, and an unknown login is refused.
provider.on('server_error', (_ctx, err) => process.stderr.write(`oidc-provider: ${err.stack}\n`));
provider.listen(port, '127.0.0.1', () => process.stdout.write(`ready ${issuer}\n`));
