// Authoring panels: impact preview of a draft and the side-by-side diff of two playbook documents.
import { h, replace, field } from '../dom.js';
import { api, seg } from '../api.js';
import { errorSlot, showApiError, clearError, setBusy } from './feedback.js';
import { ACTION_LABELS } from './step-describe.js';

const pretty = (value) => (value === undefined || value === null ? '—' : typeof value === 'string' ? value : JSON.stringify(value));

function exceptionLink(id) {
  return h('a', { href: `#/exceptions/${seg(id)}`, class: 'mono', 'data-testid': 'impact-sample' }, id);
}

function sideTable(side, label, key) {
  const rows = side.by_playbook || [];
  return h(
    'div',
    { class: 'impact-side', 'data-testid': `impact-${label.toLowerCase()}` },
    h('h4', {}, `${label}: ${side.count}`),
    rows.length
      ? h(
          'table',
          { class: 'data-table compact' },
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, key === 'from' ? 'From playbook' : 'To playbook'), h('th', { scope: 'col', class: 'num' }, 'Exceptions'))),
          h('tbody', {}, rows.map((r) => h('tr', {}, h('td', {}, r[key] ? `${r.name || r[key]}` : h('span', { class: 'muted' }, 'no playbook')), h('td', { class: 'num' }, String(r.count))))),
        )
      : null,
    side.samples && side.samples.length
      ? h('p', { class: 'samples' }, 'e.g. ', side.samples.map((s, i) => [i ? ', ' : '', exceptionLink(s.exception_id), s.mid_run ? h('span', { class: 'muted' }, ' (mid-run)') : null]))
      : null,
  );
}

export function impactView(res) {
  const cost = res.cost || {};
  return h(
    'div',
    { class: 'impact-result', 'data-testid': 'impact-result' },
    h(
      'dl',
      { class: 'stats-grid' },
      [
        ['Examined', res.evaluated],
        ['Conditions hold', res.matched],
        ['Would win', res.would_win],
        ['Mid-run (stay pinned)', res.mid_run_pinned],
      ].map(([k, v]) => h('div', { class: 'stat' }, h('dt', {}, k), h('dd', { 'data-testid': `impact-${k.split(' ')[0].toLowerCase()}` }, String(v)))),
    ),
    h('div', { class: 'impact-sides' }, sideTable(res.captured, 'Captured', 'from'), sideTable(res.released, 'Released', 'to')),
    h(
      'p',
      { class: 'muted small', 'data-testid': 'impact-cost' },
      `${cost.examined} exceptions in ${cost.pages} page(s), ${cost.reads} DynamoDB reads, ${cost.seconds} s`,
      cost.truncated ? ` · stopped early (${cost.stopped_by}): older exceptions were not examined` : ' · complete',
    ),
  );
}

/** Impact preview card for a draft. */
export function impactCard(draftId, { before = null } = {}) {
  const days = field('Recent = created within (days)', h('input', { type: 'number', min: '0', max: '90', value: '7', 'data-testid': 'impact-days' }));
  const run = h('button', { type: 'button', class: 'btn', 'data-testid': 'impact-run' }, h('span', { class: 'btn-label' }, 'Preview impact'));
  const err = errorSlot();
  const host = h('div', { 'aria-live': 'polite' });
  run.addEventListener('click', async () => {
    clearError(err);
    const restore = setBusy(run, 'Evaluating…');
    try {
      if (before) await before();
      const res = await api.get(`/api/playbook-drafts/${seg(draftId)}/impact`, { query: { days: days.input.value || 7 } });
      replace(host, impactView(res));
    } catch (e) {
      showApiError(err, e);
    } finally {
      restore();
    }
  });
  return h(
    'section',
    { class: 'card' },
    h('div', { class: 'card-head' }, h('h2', {}, 'Impact preview')),
    h('p', { class: 'muted' }, 'The draft and the live playbooks against the open exceptions and the recent ones: which would switch to it, which it would release. Nothing is written.'),
    h('div', { class: 'form-row' }, days.wrap, run),
    err,
    host,
  );
}

function stepCell(step, order) {
  if (!step) return h('td', { class: 'diff-empty' }, '');
  return h(
    'td',
    {},
    h('div', { class: 'strong' }, `${order}. ${step.name}`),
    h('div', {}, h('span', { class: 'chip action' }, ACTION_LABELS[step.action_type] || step.action_type), step.requires_approval ? h('span', { class: 'badge approval' }, 'approval') : null, step.skippable === false ? h('span', { class: 'chip' }, 'not skippable') : null),
    h('pre', { class: 'diff-params' }, JSON.stringify(step.params || {}, null, 1)),
  );
}

/** Side-by-side comparison of two documents (the answer of a diff endpoint). */
export function diffView(diff) {
  const before = diff.from || {};
  const after = diff.to || {};
  const left = before.version ? `Version ${before.version}` : before.document ? 'Base' : 'Nothing (new playbook)';
  const right = after.version ? `Version ${after.version}` : 'Draft';
  const rows = [];
  for (const f of diff.fields || []) rows.push(['changed', f.field, f.before, f.after]);
  if (diff.priority) rows.push(['changed', 'priority', diff.priority.before, diff.priority.after]);
  for (const c of diff.conditions || []) rows.push([c.change, `match.${c.path}`, c.before, c.after]);
  return h(
    'div',
    { class: 'diff-view', 'data-testid': 'diff-view' },
    diff.changed ? null : h('p', { class: 'muted' }, 'No differences.'),
    rows.length
      ? h(
          'table',
          { class: 'data-table compact diff-table', 'data-testid': 'diff-fields' },
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Field'), h('th', { scope: 'col' }, left), h('th', { scope: 'col' }, right))),
          h('tbody', {}, rows.map(([change, name, was, now]) => h('tr', { class: `diff-${change}`, 'data-change': change }, h('td', { class: 'mono' }, name), h('td', { class: 'mono diff-before' }, pretty(was)), h('td', { class: 'mono diff-after' }, pretty(now))))),
        )
      : null,
    h(
      'table',
      { class: 'data-table diff-steps', 'data-testid': 'diff-steps' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, `Steps: ${left}`), h('th', { scope: 'col' }, 'Change'), h('th', { scope: 'col' }, `Steps: ${right}`))),
      h(
        'tbody',
        {},
        (diff.steps || []).map((s) =>
          h(
            'tr',
            { class: `diff-${s.change}`, 'data-testid': 'diff-step', 'data-change': s.change },
            stepCell(s.before, s.before_order),
            h('td', {}, h('span', { class: `badge diff-badge ${s.change}` }, s.change), s.changed_fields && s.changed_fields.length ? h('div', { class: 'muted small' }, s.changed_fields.join(', ')) : null),
            stepCell(s.after, s.after_order),
          ),
        ),
      ),
    ),
  );
}
