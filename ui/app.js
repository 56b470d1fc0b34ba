// Entry point: load config, pick up a hosted-UI redirect, wire the header, start the router.
import { loadConfig, config } from './js/config.js';
import { consumeRedirect, currentUser, getToken, rememberReturn, signOut } from './js/auth.js';
import { setUnauthorizedHandler } from './js/api.js';
import { navigate, startRouter } from './js/router.js';
import { replace, h } from './js/dom.js';
import * as signin from './js/views/signin.js';
import * as exceptionsList from './js/views/exceptions-list.js';
import * as exceptionDetail from './js/views/exception-detail.js';
import * as playbooksList from './js/views/playbooks-list.js';
import * as draftEditor from './js/views/draft-editor.js';
import * as playbookDiff from './js/views/playbook-diff.js';
import * as playbookDetail from './js/views/playbook-detail.js';
import * as playbookEditor from './js/views/playbook-editor.js';
import * as approvals from './js/views/approvals.js';

const routes = [
  { pattern: /^\/signin$/, view: signin.render, public: true },
  { pattern: /^\/exceptions$/, view: exceptionsList.render, nav: 'exceptions' },
  { pattern: /^\/exceptions\/([^/]+)$/, keys: ['id'], view: exceptionDetail.render, nav: 'exceptions' },
  { pattern: /^\/approvals$/, view: approvals.render, nav: 'approvals' },
  { pattern: /^\/playbooks$/, view: playbooksList.render, nav: 'playbooks' },
  { pattern: /^\/playbooks\/new$/, view: playbookEditor.render, nav: 'playbooks' },
  { pattern: /^\/playbooks\/drafts\/([^/]+)$/, keys: ['id'], view: draftEditor.render, nav: 'playbooks' },
  { pattern: /^\/playbooks\/([^/]+)\/diff$/, keys: ['id'], view: playbookDiff.render, nav: 'playbooks' },
  { pattern: /^\/playbooks\/([^/]+)$/, keys: ['id'], view: playbookDetail.render, nav: 'playbooks' },
];

function updateHeader(route) {
  const user = currentUser();
  const bar = document.getElementById('topbar');
  bar.hidden = !user || Boolean(route && route.public);
  if (user) {
    replace(
      document.getElementById('user-info'),
      h('span', { class: 'user-name' }, user.username),
      h('span', { class: 'user-sep', 'aria-hidden': 'true' }, '·'),
      h('span', { class: 'user-tenant', title: 'Tenant' }, user.tenant),
      h('span', { class: 'user-role' }, user.roles.join(', ') || 'no role'),
    );
  }
  for (const link of document.querySelectorAll('.mainnav a')) {
    if (route && link.dataset.nav === route.nav) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

function guard(path) {
  const isPublic = path === '/signin';
  if (!isPublic && !getToken()) {
    rememberReturn(window.location.hash);
    return '/signin';
  }
  if (isPublic && getToken()) return '/exceptions';
  return null;
}

function onUnauthorized() {
  if (window.location.hash.startsWith('#/signin')) return;
  rememberReturn(window.location.hash);
  signOut();
  sessionStorage.setItem('signin_notice', 'Your session has ended. Please sign in again.');
  navigate('/signin');
}

async function main() {
  await loadConfig();
  const redirect = await consumeRedirect();
  if (redirect.error) sessionStorage.setItem('signin_notice', redirect.error);
  setUnauthorizedHandler(onUnauthorized);

  document.getElementById('sign-out').addEventListener('click', () => {
    signOut();
    navigate('/signin');
  });
  // The skip link must not change the hash (that would be a route change).
  document.getElementById('skip-link').addEventListener('click', (ev) => {
    ev.preventDefault();
    document.getElementById('main').focus();
  });
  document.documentElement.dataset.mode = config().local ? 'local' : 'deployed';

  await startRouter({
    root: document.getElementById('main'),
    routes,
    guard,
    afterRender: (_path, route) => updateHeader(route),
  });
}

main();
