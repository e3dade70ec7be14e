// Which browser the dashboard tests launch: Debian's chromium only when it runs (issue 38, item 10).
// the browser tests took /usr/bin/chromium whenever the path existed, even when it could not run
// (not executable, or a binary that fails). Such a path is passed over for the Chromium @sparticuz/chromium ships.
import { chmodSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { findChromium } from '../support/browser';
import { tempDir } from '../support/tmp';

const dir = tempDir('browser-choice');

it('a Debian chromium that is not executable, or fails to start, is passed over for the packaged one', () => {
  const notExecutable = path.join(dir, 'chromium-noexec');
  writeFileSync(notExecutable, '#!/bin/sh\necho "Chromium 156"\n');
  chmodSync(notExecutable, 0o644);
  const failing = path.join(dir, 'chromium-fails');
  writeFileSync(failing, '#!/bin/sh\necho "error while loading shared libraries" >&2\nexit 127\n');
  chmodSync(failing, 0o755);
  for (const debianPath of [notExecutable, failing]) {
    const found = findChromium({}, debianPath);
    expect([debianPath, found.source]).toEqual([debianPath, expect.stringMatching(/^@sparticuz\/chromium/)]);
  }
  const working = path.join(dir, 'chromium-works');
  writeFileSync(working, '#!/bin/sh\necho "Chromium 156.0.8078.73"\n');
  chmodSync(working, 0o755);
  expect(findChromium({}, working).executablePath).toBe(working);
});
