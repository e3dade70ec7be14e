// The sign-in page: a button to the OpenID Provider (api.oidc), and/or the API token form (api.token, once; the
// answer is a session cookie, auth/sessions.ts).
import { html, type SafeHtml } from '../html';

export function loginPage(o: { next: string; failed: boolean; provider?: string; tokenForm: boolean }): SafeHtml {
  const oidc = o.provider
    ? html`<p><a class="button" href="/ui/oidc/start?next=${encodeURIComponent(o.next)}" data-sign-in="oidc">Sign in with ${o.provider}</a></p>`
    : '';
  const form = o.tokenForm
    ? html`<form method="post" action="/ui/login" class="stack login">
        ${o.failed ? html`<p class="fail-text" role="alert">That token is not this daemon's.</p>` : ''}
        <label>API token <input type="password" name="token" autocomplete="current-password" required ${o.provider ? '' : html`autofocus`} /></label>
        <small>The daemon's <code>api.token</code> (from the environment it was started with).</small>
        <input type="hidden" name="next" value="${o.next}" />
        <button type="submit">Sign in with the token</button>
      </form>`
    : '';
  return html`${oidc}${form}`;
}

/** What a failed OpenID Connect sign-in shows: the reason, and a way to try again. */
export function signInProblemPage(message: string): SafeHtml {
  return html`<p class="fail-text" role="alert">${message}</p>
    <p><a href="/ui/login">Try to sign in again</a></p>`;
}

/** After a sign-in the browser arrives from the provider's site: a page of ours moves it on, so the SameSite=Strict cookie goes along. */
export function signedInPage(next: string): SafeHtml {
  return html`<p>Signed in. <a href="${next}" data-continue>Continue</a></p>`;
}
