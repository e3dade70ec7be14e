// Standard Webhooks signatures: webhook-id, webhook-timestamp, webhook-signature = v1,<base64 HMAC-SHA256 of "id.timestamp.body">.
import { createHmac } from 'node:crypto';

/** A `whsec_<base64>` secret is the base64 of the key; any other string is used as UTF-8 bytes. */
export function secretKey(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice('whsec_'.length), 'base64') : Buffer.from(secret, 'utf8');
}

export function signatureHeaders(o: { secret: string; id: string; timestampSeconds: number; body: string }): Record<string, string> {
  const signature = createHmac('sha256', secretKey(o.secret)).update(`${o.id}.${o.timestampSeconds}.${o.body}`).digest('base64');
  return { 'webhook-id': o.id, 'webhook-timestamp': String(o.timestampSeconds), 'webhook-signature': `v1,${signature}` };
}
