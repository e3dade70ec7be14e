// An alert's buttons in a Slack message, and the names Slack posts back to /hooks/slack when one is clicked. One place
// for both, so the message and the hook cannot drift: the webhook format and the live message carry the same block.

/** The block holding the buttons: the hook drops it from the message once one was used. */
export const ALERT_ACTIONS_BLOCK = 'srw_alert_actions';
export const ACK_ACTION = 'srw_ack';
/** Shown in place of the buttons once acknowledged: takes the acknowledgement back (a pager is triggered again). */
export const UNACK_ACTION = 'srw_unack';
/** Silence buttons and how long each silences. */
export const SILENCE_ACTIONS: Readonly<Record<string, number>> = { srw_silence_1h: 3_600_000, srw_silence_4h: 4 * 3_600_000 };

/** Acknowledge, Silence 1h, Silence 4h. A button's value names the alert only: the hook looks the rest up itself. */
export function alertActionsBlock(alertId: string): Record<string, unknown> {
  return {
    type: 'actions',
    block_id: ALERT_ACTIONS_BLOCK,
    elements: [
      { type: 'button', action_id: ACK_ACTION, text: { type: 'plain_text', text: 'Acknowledge' }, style: 'primary', value: alertId },
      ...Object.entries(SILENCE_ACTIONS).map(([actionId, ms]) => ({
        type: 'button',
        action_id: actionId,
        text: { type: 'plain_text', text: `Silence ${ms / 3_600_000}h` },
        value: alertId,
      })),
    ],
  };
}

/** What an acknowledged alert's message offers: Unacknowledge. */
export function unackActionBlock(alertId: string): Record<string, unknown> {
  return {
    type: 'actions',
    block_id: ALERT_ACTIONS_BLOCK,
    elements: [{ type: 'button', action_id: UNACK_ACTION, text: { type: 'plain_text', text: 'Unacknowledge' }, value: alertId }],
  };
}
