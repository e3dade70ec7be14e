// Bearer tokens for Azure: a static token, a service principal, or DefaultAzureCredential; cached until shortly before expiry.
import type { TokenCredential } from '@azure/identity';
import { ProviderAuthError } from '../../model/errors';
import type { AzureMlOptions } from './options';

/** Refresh this long before a token expires. */
const REFRESH_MARGIN_MS = 5 * 60 * 1000;

export interface TokenSource {
  token(scope: string): Promise<string>;
}

export function tokenSource(credential: AzureMlOptions['credential']): TokenSource {
  if (credential && 'token' in credential) {
    const token = credential.token;
    return { token: async () => token };
  }
  // @azure/identity is loaded on the first token, not at start: it costs ~0.2 s, and most commands never need it.
  return new CachedTokenSource(async () => {
    const identity = await import('@azure/identity');
    return credential
      ? new identity.ClientSecretCredential(credential.tenantId, credential.clientId, credential.clientSecret)
      : new identity.DefaultAzureCredential();
  });
}

class CachedTokenSource implements TokenSource {
  private readonly cache = new Map<string, { token: string; expiresAt: number }>();
  private readonly pending = new Map<string, Promise<string>>();

  private credential?: Promise<TokenCredential>;

  constructor(private readonly makeCredential: () => Promise<TokenCredential>) {}

  async token(scope: string): Promise<string> {
    const cached = this.cache.get(scope);
    if (cached && cached.expiresAt - REFRESH_MARGIN_MS > Date.now()) return cached.token;
    // One refresh at a time per scope, however many polls ask.
    let pending = this.pending.get(scope);
    if (!pending) {
      pending = this.fetch(scope).finally(() => this.pending.delete(scope));
      this.pending.set(scope, pending);
    }
    return pending;
  }

  private async fetch(scope: string): Promise<string> {
    try {
      this.credential ??= this.makeCredential();
      const access = await (await this.credential).getToken(scope);
      if (!access) throw new ProviderAuthError('no token returned');
      this.cache.set(scope, { token: access.token, expiresAt: access.expiresOnTimestamp });
      return access.token;
    } catch (err) {
      throw new ProviderAuthError(
        `Azure sign-in failed for ${scope}: ${(err as Error).message.split('\n')[0]} (set credential in the provider config, or sign in with \`az login\`)`,
        { cause: err },
      );
    }
  }
}

/**
 * The provider's tokens as the Azure SDKs take them (a TokenCredential), for the scope they ask (Storage's, for
 * identity-based datastores). The source caches and refreshes; the SDK is told a short life so it asks again often.
 */
export function asTokenCredential(tokens: TokenSource): TokenCredential {
  return {
    async getToken(scopes) {
      const scope = Array.isArray(scopes) ? scopes[0]! : scopes;
      return { token: await tokens.token(scope), expiresOnTimestamp: Date.now() + 10 * 60 * 1000 };
    },
  };
}
