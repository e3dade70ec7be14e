// The sign-in form: the API token, once; the answer is a session cookie (see session.ts).
import { html, type SafeHtml } from '../html';

export function loginPage(next: string, failed: boolean): SafeHtml {
  return html`<form method="post" action="/ui/login" class="stack login">
    ${failed ? html`<p class="fail-text" role="alert">That token is not this daemon's.</p>` : ''}
    <label>API token <input type="password" name="token" autocomplete="current-password" required autofocus /></label>
    <small>The daemon's <code>api.token</code> (from the environment it was started with).</small>
    <input type="hidden" name="next" value="${next}" />
    <button type="submit">Sign in</button>
  </form>`;
}
