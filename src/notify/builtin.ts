// Registers the built-in notifiers the same way a third-party notifier type would be registered.
import { consoleNotifierFactory } from './console';
import { moduleNotifierFactory, NotifierRegistry } from './notifier';

export function builtinNotifiers(): NotifierRegistry {
  return new NotifierRegistry().register('console', consoleNotifierFactory).register('module', moduleNotifierFactory);
}
