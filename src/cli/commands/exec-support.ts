// What the `exec` and `run` commands share: the local store, and cancelling a local run on Ctrl-C.
import type { Command } from 'commander';
import { CanceledError, InvalidInputError } from '../../model/errors';
import { LocalProvider } from '../../providers/local/provider';
import { configOf, globalsOf, providerFromConfig } from '../context';

/** Ctrl-C and SIGTERM cancel the step runs (recorded Canceled) instead of killing the wrapper. */
export function cancelOnSignals(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    process.stderr.write(`steprun-watch: ${sig}: canceling\n`);
    controller.abort(new CanceledError(sig));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

export async function localStore(cmd: Command) {
  const config = await configOf(cmd);
  const provider = providerFromConfig(config, globalsOf(cmd).provider ?? 'local');
  if (!(provider instanceof LocalProvider)) throw new InvalidInputError('exec and run make local step runs: use a provider of type local');
  return provider.store;
}
