// Registers the built-in notifiers the same way a third-party notifier type would be registered.
import { alertmanagerNotifierFactory } from './notifiers/alertmanager';
import { consoleNotifierFactory } from './notifiers/console';
import { downloadNotifierFactory } from './notifiers/harvest';
import { emailNotifierFactory } from './notifiers/email';
import { moduleNotifierFactory, NotifierRegistry } from './notifier';
import { slackLiveNotifierFactory } from './notifiers/slack-live';
import { webhookNotifierFactory } from './notifiers/webhook';

export function builtinNotifiers(): NotifierRegistry {
  return new NotifierRegistry()
    .register('console', consoleNotifierFactory)
    .register('email', emailNotifierFactory)
    .register('webhook', webhookNotifierFactory)
    .register('slack', slackLiveNotifierFactory)
    .register('download', downloadNotifierFactory)
    .register('alertmanager', alertmanagerNotifierFactory)
    .register('module', moduleNotifierFactory);
}
