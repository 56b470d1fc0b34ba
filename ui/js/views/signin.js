// Sign-in. Local stack: tenant/username/role form -> POST /local/token.
// Deployed: one button to the Cognito hosted UI (the token comes back in the URL fragment).
import { h, field } from '../dom.js';
import { api } from '../api.js';
import { config } from '../config.js';
import { setToken, startHostedSignIn, takeReturn } from '../auth.js';
import { ROLES } from '../components/badges.js';
import { errorSlot, showApiError, showError, setBusy } from '../components/feedback.js';

// Only non-secret conveniences are remembered across visits.
const PREFS_KEY = 'ep_signin_prefs';

function loadPrefs() {
  try {
    return JSON.parse(localStorage.getItem(PREFS_KEY)) || {};
  } catch {
    return {};
  }
}

export function render(root) {
  const notice = sessionStorage.getItem('signin_notice');
  sessionStorage.removeItem('signin_notice');
  const err = errorSlot();

  const card = h(
    'section',
    { class: 'signin-card', 'aria-labelledby': 'signin-title' },
    h('div', { class: 'signin-brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, 'EP'), 'Exception Playbooks'),
    h('h1', { id: 'signin-title', tabindex: '-1' }, 'Sign in'),
    notice ? h('p', { class: 'notice' }, notice) : null,
  );
  root.append(h('div', { class: 'signin-page' }, card));

  if (!config().local) {
    card.append(
      h('p', { class: 'muted' }, 'Use your organisation account.'),
      h('button', { type: 'button', class: 'btn btn-primary btn-block', onclick: () => startHostedSignIn() }, 'Sign in'),
      err,
    );
    return;
  }

  const prefs = loadPrefs();
  const tenant = field('Tenant', h('input', { name: 'tenant_id', required: true, autocomplete: 'organization', value: prefs.tenant || '' }));
  const username = field('Username', h('input', { name: 'username', required: true, autocomplete: 'username', value: prefs.username || '' }));
  const role = field(
    'Role',
    h('select', { name: 'role' }, ROLES.map((r) => h('option', { value: r, selected: r === (prefs.role || 'operator') }, r))),
  );
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, h('span', { class: 'btn-label' }, 'Sign in'));

  const form = h(
    'form',
    { class: 'form-stack', novalidate: true },
    h('p', { class: 'muted' }, 'Local stack: pick any tenant and user. The token is issued by this machine only.'),
    tenant.wrap,
    username.wrap,
    role.wrap,
    err,
    submit,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = {
      tenant_id: tenant.input.value.trim(),
      username: username.input.value.trim(),
      roles: [role.input.value],
    };
    if (!body.tenant_id || !body.username) {
      showError(err, 'Tenant and username are required.');
      (body.tenant_id ? username : tenant).input.focus();
      return;
    }
    const restore = setBusy(submit, 'Signing in…');
    try {
      const data = await api.post('/local/token', body);
      if (!data || !data.token) throw new Error('The server did not return a token.');
      setToken(data.token);
      localStorage.setItem(PREFS_KEY, JSON.stringify({ tenant: body.tenant_id, username: body.username, role: body.roles[0] }));
      window.location.hash = takeReturn();
    } catch (e) {
      restore();
      showApiError(err, e);
    }
  });
  card.append(form);
  (tenant.input.value ? username.input : tenant.input).focus();
}
