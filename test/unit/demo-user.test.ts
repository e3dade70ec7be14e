// The demo's key prefix without $USER: the account's own name (issue 38, item 13).
// every user without $USER got the demo prefix `srw-demo-me`, and two such demos on one Redis
// mixed (one resolved the other's alerts). Without $USER the account's own name (or uid) names the prefix.
import * as os from 'node:os';
import { demoUser } from '../../src/cli/commands/demo';

it('without $USER or $USERNAME, the demo is named after the account, never one shared fallback', () => {
  const account = os.userInfo().username;
  expect(demoUser({})).toBe(account.replace(/[^\w.-]/g, '') || `uid${process.getuid!()}`);
  expect(demoUser({})).not.toBe('me');
  expect(demoUser({ USER: 'ana' })).toBe('ana');
  expect(demoUser({ USERNAME: 'b.o b' })).toBe('b.ob');
});
