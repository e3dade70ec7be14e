// The watcher's commands (daemon, track, tracks, untrack, events): filled in by the watcher.
import type { Command } from 'commander';

export function registerWatchCommands(_program: Command): void {}
