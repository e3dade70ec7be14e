// Registers the built-in notifiers the same way a third-party notifier type would be registered.
import { consoleNotifierFactory } from './console';
import { downloadNotifierFactory } from './download';
import { emailNotifierFactory } from './email';
import { moduleNotifierFactory, NotifierRegistry } from './notifier';
import { slackLiveNotifierFactory } from './slack-live';
import { webhookNotifierFactory } from './webhook';

export function builtinNotifiers(): NotifierRegistry {
  return new NotifierRegistry()
    .register('console', consoleNotifierFactory)
    .register('email', emailNotifierFactory)
    .register('webhook', webhookNotifierFactory)
    .register('slack', slackLiveNotifierFactory)
    .register('download', downloadNotifierFactory)
    .register('module', moduleNotifierFactory);
}
