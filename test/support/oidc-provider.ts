// Starts the local OpenID Provider (oidc-op.mjs: the certified oidc-provider package) as a process, and stops it.
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { freePort } from './redis';

export interface OpUser {
  email: string;
  name: string;
  groups?: string[];
  roles?: string[];
}

export class LocalOpenIdProvider {
  issuer = '';
  private child?: ChildProcess;

  constructor(
    private readonly o: { redirectUri: string; clientId: string; clientSecret: string; users: Record<string, OpUser> },
    private port?: number,
  ) {}

  async start(): Promise<string> {
    this.port ??= await freePort();
    const settings = JSON.stringify({ ...this.o, port: this.port });
    this.child = spawn(process.execPath, [path.join(__dirname, 'oidc-op.mjs'), settings], { stdio: ['ignore', 'pipe', 'pipe'] });
    // Its start-up warnings (development keys, in-memory store, the dev login page) are what a test provider is.
    this.child.stderr!.on('data', (d: Buffer) => {
      const lines = d
        .toString()
        .split('\n')
        .filter((l) => l.trim() && !l.startsWith('oidc-provider WARNING'));
      if (lines.length) process.stderr.write(`${lines.join('\n')}\n`);
    });
    this.issuer = await new Promise<string>((resolve, reject) => {
      let out = '';
      this.child!.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /ready (\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      this.child!.once('exit', (code) => reject(new Error(`the OpenID Provider exited (${code}) before it listened`)));
    });
    return this.issuer;
  }

  /** Stops it (the provider "down"); `start()` again brings it back on the same port. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise((r) => {
      child.once('exit', r);
      child.kill('SIGTERM');
    });
  }
}
