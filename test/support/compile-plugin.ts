// Compiles a plugin's TypeScript on its own, strict, as a third party would: inside the package folder, so that
// `from 'steprun-watch'` resolves through the package's exports map to the built types (dist/).
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './cli';

const run = promisify(execFile);

/** `file.ts` → `file.js` beside it (CommonJS, node16 resolution). Throws with tsc's output when it does not compile. */
export async function compilePlugin(file: string): Promise<void> {
  const dir = path.dirname(file);
  const args = ['--strict', '--target', 'es2022', '--module', 'node16', '--moduleResolution', 'node16', '--skipLibCheck'];
  await run(process.execPath, [require.resolve('typescript/bin/tsc'), ...args, '--rootDir', dir, '--outDir', dir, file], { cwd: ROOT });
}
