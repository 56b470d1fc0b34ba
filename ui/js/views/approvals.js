// #/approvals: "Waiting for my approval". Reads the open exceptions and their playbook status
// (bounded: the newest 50 running exceptions) and lists the steps someone else asked to approve.
import { h, replace } from '../dom.js';
import { api, seg } from '../api.js';
import { currentUser } from '../auth.js';
import { formatDateTime, relativeTime } from '../format.js';
import { errorSlot, showApiError, loading } from '../components/feedback.js';

const STATUSES = ['in_progress', 'pending_review', 'escalated'];
const MAX_EXCEPTIONS = 50;

// One request at a time: the inbox is a background read, and the local stack serves the requests
// of one function group on shared handler state (parallel reads there have been seen to mix up).
async function pending(signal) {
  const me = currentUser();
  const byId = new Map();
  for (const status of STATUSES) {
    const page = await api.get('/api/exceptions', { query: { status, limit: MAX_EXCEPTIONS }, signal });
    for (const e of page.items) if (e.current_step && !byId.has(e.exception_id)) byId.set(e.exception_id, e);
  }
  const rows = [];
  for (const ex of [...byId.values()].slice(0, MAX_EXCEPTIONS)) {
    const status = await api.get(`/api/exceptions/${seg(ex.exception_id)}/playbook`, { signal });
    for (const step of status.steps || []) {
      const r = step.approval;
      if (!r || r.expired || r.requested_by === me.username || r.approvals.some((a) => a.actor_id === me.username)) continue;
      if (!r.roles.some((role) => me.roles.includes(role))) continue;
      rows.push({ ex, step, r });
    }
  }
  return rows;
}

export async function render(root, ctx) {
  const err = errorSlot();
  const body = h('div', {}, loading('Looking for requests…'));
  replace(root, h('div', { class: 'container' }, h('h1', {}, 'Waiting for my approval'), err, body));
  document.title = 'Approvals · Exception Playbooks';
  try {
    const rows = await pending(ctx.signal);
    if (!ctx.alive()) return;
    if (!rows.length) {
      replace(body, h('p', { class: 'empty muted', 'data-testid': 'approvals-empty' }, 'Nothing is waiting for your approval.'));
      return;
    }
    replace(
      body,
      h(
        'table',
        { class: 'table', 'data-testid': 'approvals-table' },
        h('thead', {}, h('tr', {}, ['Exception', 'Step', 'Asked by', 'Approvals', 'Expires'].map((t) => h('th', { scope: 'col' }, t)))),
        h(
          'tbody',
          {},
          rows.map(({ ex, step, r }) =>
            h(
              'tr',
              { 'data-testid': 'approval-row', 'data-exception-id': ex.exception_id },
              h('td', {}, h('a', { href: `#/exceptions/${seg(ex.exception_id)}` }, ex.exception_id), h('div', { class: 'muted small' }, ex.exception_type)),
              h('td', {}, `${step.step_order}. ${step.name}`),
              h('td', {}, r.requested_by, ' ', h('time', { datetime: r.requested_at, class: 'muted small' }, relativeTime(r.requested_at))),
              h('td', {}, `${r.approvals.length} of ${r.quorum}`),
              h('td', {}, formatDateTime(r.expires_at)),
            ),
          ),
        ),
      ),
    );
  } catch (e) {
    if (!ctx.alive() || e.name === 'AbortError') return;
    replace(body);
    showApiError(err, e);
  }
}
