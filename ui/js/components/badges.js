// Badges for status, severity, step state and actors. Colours live in styles.css
// keyed by a class derived from a known value; unknown values get a neutral style.
import { h, icon } from '../dom.js';
import { humanize } from '../format.js';

export const STATUSES = ['open', 'in_progress', 'pending_review', 'escalated', 'resolved', 'closed'];
export const SEVERITIES = ['low', 'medium', 'high', 'critical'];
export const ROLES = ['viewer', 'operator', 'admin', 'automation'];

function known(list, value) {
  return list.includes(value) ? value : 'unknown';
}

export function statusBadge(status) {
  return h('span', { class: `badge status status-${known(STATUSES, status)}`, 'data-value': status || '' }, humanize(status));
}

export function severityBadge(severity) {
  if (!severity) return h('span', { class: 'badge sev sev-none', title: 'Not triaged yet' }, 'Untriaged');
  return h(
    'span',
    { class: `badge sev sev-${known(SEVERITIES, severity)}`, 'data-value': severity },
    h('span', { class: 'sev-dot', 'aria-hidden': 'true' }),
    humanize(severity),
  );
}

const STEP_LABELS = { pending: 'Pending', completed: 'Completed', skipped: 'Skipped', awaiting_approval: 'Awaiting approval' };

export function stepStatusBadge(status) {
  const cls = STEP_LABELS[status] ? status : 'unknown';
  return h('span', { class: `badge step-${cls}` }, STEP_LABELS[status] || humanize(status));
}

export function activeBadge(active) {
  return active === false
    ? h('span', { class: 'badge inactive' }, 'Inactive')
    : h('span', { class: 'badge active' }, 'Active');
}

/** Actor chip: icon + type word + id, so agent/human/system differ by shape, colour and text. */
export function actorChip(actorType, actorId) {
  const type = ['human', 'agent', 'system'].includes(actorType) ? actorType : 'system';
  return h(
    'span',
    { class: `actor actor-${type}` },
    icon(type),
    h('span', { class: 'actor-type' }, actorType || 'unknown'),
    actorId ? h('span', { class: 'actor-id' }, actorId) : null,
  );
}

export function approvalMarker() {
  return h('span', { class: 'badge approval', title: 'Only a person can complete this step' }, icon('flag'), 'Needs approval');
}
