// Renders a matching answer (recalculate / simulate): the chosen playbook, the
// summary, and for every candidate its checks (condition, expected, actual, pass/fail).
import { h } from '../dom.js';
import { formatValue, severitySource } from '../format.js';

function passCell(passed) {
  return passed
    ? h('span', { class: 'pass' }, h('span', { 'aria-hidden': 'true' }, '✓ '), 'pass')
    : h('span', { class: 'fail' }, h('span', { 'aria-hidden': 'true' }, '✗ '), 'fail');
}

/** Check rows; any_of checks carry `branches` (lists of checks), shown indented under it. */
function checkRows(checks, depth = 0) {
  const rows = [];
  for (const c of checks || []) {
    rows.push(
      h(
        'tr',
        { class: c.passed ? 'row-pass' : 'row-fail' },
        h('td', { class: 'mono' }, h('span', { class: `indent-${Math.min(depth, 3)}` }, c.condition ?? '—')),
        h('td', { class: 'mono' }, formatValue(c.expected)),
        h('td', { class: 'mono' }, formatValue(c.actual)),
        h('td', {}, passCell(Boolean(c.passed))),
      ),
    );
    if (Array.isArray(c.branches)) {
      c.branches.forEach((branch, i) => {
        rows.push(
          h('tr', { class: 'branch-row' }, h('td', { colspan: 4, class: 'muted small' }, h('span', { class: `indent-${Math.min(depth + 1, 3)}` }, `alternative ${i + 1}`))),
        );
        rows.push(...checkRows(branch, depth + 2));
      });
    }
  }
  return rows;
}

function yesNo(value, yes, no) {
  return value ? h('span', { class: 'badge ok' }, yes) : h('span', { class: 'badge bad' }, no);
}

export function candidateBlock(c, chosenId) {
  const violations = Array.isArray(c.violations) ? c.violations : [];
  const isChosen = c.selected ?? (chosenId && c.playbook_id === chosenId);
  return h(
    'div',
    { class: `candidate${isChosen ? ' is-chosen' : ''}`, 'data-testid': 'candidate', 'data-playbook-id': c.playbook_id || '' },
    h(
      'div',
      { class: 'candidate-head' },
      h('span', { class: 'strong' }, c.name || c.playbook_id || 'Playbook'),
      c.version !== undefined ? h('span', { class: 'muted' }, `v${c.version}`) : null,
      c.priority !== undefined ? h('span', { class: 'chip' }, `priority ${c.priority}`) : null,
      c.rank ? h('span', { class: 'chip' }, `rank ${c.rank}`) : null,
      yesNo(c.matched, 'matched', 'not matched'),
      'compliant' in c ? yesNo(c.compliant, 'compliant', 'policy violation') : null,
      isChosen ? h('span', { class: 'badge chosen' }, 'chosen') : null,
    ),
    violations.length
      ? h('ul', { class: 'violations' }, violations.map((v) => h('li', {}, typeof v === 'string' ? v : formatValue(v.message || v))))
      : null,
    (c.checks || []).length
      ? h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'data-table compact checks-table' },
            h('thead', {}, h('tr', {}, ['Condition', 'Expected', 'Actual', 'Result'].map((t) => h('th', { scope: 'col' }, t)))),
            h('tbody', {}, checkRows(c.checks)),
          ),
        )
      : h('p', { class: 'muted small' }, 'No conditions: matches every exception (catch-all).'),
  );
}

/** The exception as matching saw it (effective severity, tags, SLA). */
function effectiveLine(eff) {
  const parts = [];
  if (eff.severity) parts.push(`severity ${eff.severity}${eff.severity_source ? ` (${severitySource(eff.severity_source)})` : ''}`);
  if (Array.isArray(eff.tags)) parts.push(eff.tags.length ? `tags ${eff.tags.join(', ')}` : 'no tags');
  if (typeof eff.sla_minutes_remaining === 'number') parts.push(`${Math.round(eff.sla_minutes_remaining)} min to SLA`);
  return parts.length ? h('p', { class: 'effective muted small' }, `Matched as: ${parts.join(' · ')}`) : null;
}

/**
 * The full result. `mode` 'recalculate' words the headline as a change,
 * 'simulate' as a prediction. Candidate detail is collapsible unless `open`.
 */
export function reasoningView(result, { mode = 'recalculate', open = false } = {}) {
  const pb = result && result.playbook;
  const reasoning = (result && result.reasoning) || {};
  const candidates = Array.isArray(reasoning.candidates) ? reasoning.candidates : [];
  const pbLabel = pb ? `${pb.name || pb.playbook_id} v${pb.version ?? '?'}` : null;
  let headline;
  if (mode === 'simulate') headline = pb ? `Would get: ${pbLabel}` : 'No playbook would be assigned';
  else if (result.changed) headline = pb ? `Changed: now ${pbLabel}` : 'Changed: no playbook matches any more';
  else headline = pb ? `No change: ${pbLabel} stays assigned` : 'No change: no playbook matches';

  const matchedCount = candidates.filter((c) => c.matched).length;
  const eff = reasoning.effective;
  return h(
    'div',
    { class: `reasoning ${mode}`, 'data-testid': mode === 'simulate' ? 'simulate-result' : 'recalc-result' },
    h('p', { class: `reasoning-headline ${result.changed || (mode === 'simulate' && pb) ? 'is-changed' : ''}` }, headline),
    reasoning.summary ? h('p', { class: 'reasoning-summary' }, reasoning.summary) : null,
    eff ? effectiveLine(eff) : null,
    candidates.length
      ? h(
          'details',
          { class: 'candidates', open },
          h('summary', {}, `Candidate checks (${candidates.length} candidates, ${matchedCount} matched)`),
          candidates.map((c) => candidateBlock(c, pb && pb.playbook_id)),
        )
      : h('p', { class: 'muted small' }, 'No active playbooks were considered.'),
  );
}
