// #/playbooks: the tenant's playbooks (latest version of each) and the Simulate box.
import { h, replace } from '../dom.js';
import { api, seg } from '../api.js';
import { navigate } from '../router.js';
import { formatShort, formatDateTime } from '../format.js';
import { activeBadge } from '../components/badges.js';
import { errorSlot, showApiError, loading } from '../components/feedback.js';
import { simulateBox } from '../components/simulate.js';

const COLUMNS = ['Name', 'Domain', 'Version', 'Priority', 'Status', 'Steps', 'Conditions', 'Updated'];

function conditionKeys(pb) {
  const match = (pb.conditions && pb.conditions.match) || {};
  const keys = Object.keys(match);
  if (!keys.length) return h('span', { class: 'chip chip-muted' }, 'catch-all');
  return h('span', { class: 'chips' }, keys.map((k) => h('span', { class: 'chip' }, k)));
}

function row(pb) {
  const href = `#/playbooks/${seg(pb.playbook_id)}`;
  const match = (pb.conditions && pb.conditions.match) || {};
  return h(
    'tr',
    {
      class: `clickable${pb.active === false ? ' is-inactive' : ''}`,
      'data-testid': 'playbook-row',
      'data-playbook-id': pb.playbook_id,
      onclick: (ev) => {
        if (!ev.target.closest('a')) navigate(`/playbooks/${seg(pb.playbook_id)}`);
      },
    },
    h('td', { 'data-label': 'Name' }, h('a', { href, class: 'strong' }, pb.name), pb.description ? h('span', { class: 'summary-line' }, pb.description) : null),
    h('td', { 'data-label': 'Domain' }, typeof match.domain === 'string' ? match.domain : h('span', { class: 'muted' }, 'any')),
    h('td', { 'data-label': 'Version', class: 'num' }, `v${pb.version}`),
    h('td', { 'data-label': 'Priority', class: 'num' }, String((pb.conditions && pb.conditions.priority) ?? 0)),
    h('td', { 'data-label': 'Status' }, activeBadge(pb.active)),
    h('td', { 'data-label': 'Steps', class: 'num' }, String((pb.steps || []).length || '—')),
    h('td', { 'data-label': 'Conditions' }, conditionKeys(pb)),
    h('td', { 'data-label': 'Updated', class: 'nowrap', title: formatDateTime(pb.created_at) }, formatShort(pb.created_at)),
  );
}

export async function render(root, ctx) {
  const err = errorSlot();
  const tbody = h('tbody', {}, h('tr', {}, h('td', { colspan: COLUMNS.length }, loading('Loading playbooks…'))));
  const table = h(
    'table',
    { class: 'data-table playbooks-table', 'data-testid': 'playbooks-table' },
    h('caption', { class: 'sr-only' }, 'Playbooks, highest priority first'),
    h('thead', {}, h('tr', {}, COLUMNS.map((c) => h('th', { scope: 'col' }, c)))),
    tbody,
  );
  const simHost = h('div', { class: 'section-gap' });
  const draftsHost = h('div', { class: 'section-gap' });
  replace(
    root,
    h(
      'div',
      { class: 'container' },
      h(
        'div',
        { class: 'page-head' },
        h('h1', { tabindex: '-1' }, 'Playbooks'),
        h('div', { class: 'page-actions' }, h('a', { class: 'btn btn-primary', href: '#/playbooks/new', 'data-testid': 'new-playbook' }, '+ New playbook')),
      ),
      h('section', { class: 'card' }, err, h('div', { class: 'table-wrap' }, table)),
      draftsHost,
      simHost,
    ),
  );

  let domain = '';
  try {
    const data = await api.get('/api/playbooks', { signal: ctx.signal });
    if (!ctx.alive()) return;
    const items = ((data && data.items) || []).slice();
    // Active first, then by priority (the order matching considers them), then name.
    items.sort(
      (a, b) =>
        Number(b.active !== false) - Number(a.active !== false) ||
        ((b.conditions && b.conditions.priority) || 0) - ((a.conditions && a.conditions.priority) || 0) ||
        String(a.name).localeCompare(String(b.name)),
    );
    const withDomain = items.find((p) => p.conditions && p.conditions.match && typeof p.conditions.match.domain === 'string');
    domain = withDomain ? withDomain.conditions.match.domain : '';
    replace(
      tbody,
      items.length
        ? items.map(row)
        : h('tr', {}, h('td', { colspan: COLUMNS.length }, h('div', { class: 'empty' }, h('p', { class: 'strong' }, 'No playbooks yet.'), h('p', { class: 'muted' }, 'Create the first one with “New playbook”.')))),
    );
  } catch (e) {
    if (!ctx.alive() || e.name === 'AbortError') return;
    replace(tbody);
    showApiError(err, e);
  }
  simHost.append(simulateBox({ domain }));
  try {
    const drafts = (await api.get('/api/playbook-drafts', { signal: ctx.signal })).items || [];
    if (!ctx.alive() || !drafts.length) return;
    draftsHost.append(
      h(
        'section',
        { class: 'card' },
        h('div', { class: 'card-head' }, h('h2', {}, `Drafts (${drafts.length})`), h('span', { class: 'muted' }, 'never matched until published')),
        h(
          'table',
          { class: 'data-table compact', 'data-testid': 'drafts-table' },
          h('thead', {}, h('tr', {}, ['Draft', 'Updates', 'Revision', 'Edited'].map((c) => h('th', { scope: 'col' }, c)))),
          h(
            'tbody',
            {},
            drafts.map((d) =>
              h(
                'tr',
                { 'data-testid': 'draft-row', 'data-draft-id': d.draft_id },
                h('td', {}, h('a', { href: `#/playbooks/drafts/${seg(d.draft_id)}`, class: 'strong' }, d.name || d.draft_id)),
                h('td', {}, d.playbook_id ? h('a', { href: `#/playbooks/${seg(d.playbook_id)}`, class: 'mono' }, `${d.playbook_id} v${d.base_version}`) : h('span', { class: 'muted' }, 'new playbook')),
                h('td', { class: 'num' }, String(d.revision)),
                h('td', { class: 'nowrap', title: formatDateTime(d.updated_at) }, formatShort(d.updated_at), d.updated_by ? ` · ${d.updated_by}` : ''),
              ),
            ),
          ),
        ),
      ),
    );
  } catch (e) {
    if (e.name === 'AbortError') return;
    // the drafts list is an extra: the page works without it
  }
}
