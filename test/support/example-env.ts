// The environment variables the example configs (config/examples/) name, set to harmless values: enough to load them.
export const EXAMPLE_ENV = {
  AZURE_SUBSCRIPTION_ID: '00000000-0000-0000-0000-000000000000',
  SMTP_URL: 'smtp://u:p@mail.example.com:587',
  SLACK_ALERTS_URL: 'https://hooks.slack.com/services/T/B/X',
  SLACK_DIGEST_URL: 'https://hooks.slack.com/services/T/B/Y',
  PAGERDUTY_ROUTING_KEY: 'R0UTING',
  TEAMS_URL: 'https://example.webhook.office.com/x',
  HOOK_URL: 'https://hooks.example.com/in',
  HOOK_SECRET: 'whsec_c2VjcmV0',
};
