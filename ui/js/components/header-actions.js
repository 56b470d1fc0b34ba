// Header actions of an exception (operators and admins): assign to me, reassign, change the
// severity, change the status (resolve, close, escalate, reopen) with a reason. Each is a PATCH
// that lands on the timeline; the node is stable across refreshes, so focus and typed text stay.
import { h, field, uid } from '../dom.js';
import { api, seg } from '../api.js';
import { SEVERITIES } from './badges.js';
import { errorSlot, showApiError, showError, clearError, setBusy, announce } from './feedback.js';
import { username } from '../roles.js';

// BEHAVIOUR.md: the legal status transitions (the server refuses anything else with 409).
export const TRANSITIONS = {
  open: ['in_progress', 'escalated'],
  in_progress: ['pending_review', 'escalated', 'resolved'],
  pending_review: ['in_progress', 'resolved', 'escalated'],
  escalated: ['in_progress', 'resolved'],
  resolved: ['closed', 'in_progress'],
  closed: [],
};
const STATUS_VERBS = {
  in_progress: 'Start / reopen (in progress)',
  pending_review: 'Send for review',
  escalated: 'Escalate',
  resolved: 'Resolve',
  closed: 'Close',
};
const NEEDS_REASON = new Set(['resolved', 'closed']);

export function headerActions({ exceptionId, onChanged }) {
  const path = `/api/exceptions/${seg(exceptionId)}`;
  const err = errorSlot();
  const done = h('p', { class: 'action-result', role: 'status' });
  const assignMe = h('button', { type: 'button', class: 'btn btn-sm', 'data-testid': 'assign-to-me' }, 'Assign to me');
  const reassign = field('Reassign to', h('input', { name: 'reassign', autocomplete: 'off', placeholder: 'user id', 'data-testid': 'reassign-input' }), { className: 'inline-field' });
  const reassignBtn = h('button', { type: 'button', class: 'btn btn-sm', 'data-testid': 'reassign' }, 'Reassign');
  const severity = field('Severity', h('select', { name: 'set-severity', 'data-testid': 'severity-select' }, SEVERITIES.map((s) => h('option', { value: s }, s))), { className: 'inline-field' });
  const severityBtn = h('button', { type: 'button', class: 'btn btn-sm', 'data-testid': 'change-severity' }, 'Change severity');
  const status = field('Move to', h('select', { name: 'set-status', 'data-testid': 'status-select' }), { className: 'inline-field' });
  const reasonId = uid('reason');
  const reason = field('Reason', h('input', { id: reasonId, name: 'reason', maxlength: '1000', autocomplete: 'off', 'data-testid': 'status-reason', placeholder: 'Required to resolve or close' }), { className: 'inline-field' });
  const statusBtn = h('button', { type: 'button', class: 'btn btn-sm btn-primary', 'data-testid': 'change-status' }, 'Change status');
  const statusGroup = h('div', { class: 'action-group' }, status.wrap, reason.wrap, statusBtn);
  const el = h(
    'section',
    { class: 'header-actions', 'aria-label': 'Actions on this exception', 'data-testid': 'header-actions' },
    h('div', { class: 'action-group' }, assignMe, reassign.wrap, reassignBtn),
    h('div', { class: 'action-group' }, severity.wrap, severityBtn),
    statusGroup,
    done,
    err,
  );
  let current = null;

  async function patch(body, button, busyLabel, message) {
    clearError(err);
    done.textContent = '';
    const restore = setBusy(button, busyLabel);
    try {
      const ex = await api.patch(path, body);
      restore();
      done.textContent = message(ex);
      announce(done.textContent);
      await onChanged(ex);
      return true;
    } catch (e) {
      restore();
      showApiError(err, e);
      if (e.status === 409) await onChanged();
      return false;
    } finally {
      if (button.isConnected) button.focus();
    }
  }

  assignMe.addEventListener('click', () =>
    patch({ owner: { type: 'user', id: username() } }, assignMe, 'Assigning…', () => 'Assigned to you.'),
  );
  reassignBtn.addEventListener('click', () => {
    const who = reassign.input.value.trim();
    if (!who) {
      showError(err, 'Type the user id to reassign to.');
      reassign.input.focus();
      return;
    }
    patch({ owner: { type: 'user', id: who } }, reassignBtn, 'Reassigning…', () => `Reassigned to ${who}.`).then((ok) => {
      if (ok) reassign.input.value = '';
    });
  });
  severityBtn.addEventListener('click', () => {
    const value = severity.input.value;
    patch({ severity: value }, severityBtn, 'Saving…', () => `Severity is now ${value}.`);
  });
  statusBtn.addEventListener('click', () => {
    const target = status.input.value;
    const why = reason.input.value.trim();
    if (!target) return;
    if (NEEDS_REASON.has(target) && !why) {
      showError(err, `Give a reason to ${target === 'closed' ? 'close' : 'resolve'}: it is kept on the timeline.`);
      reason.input.setAttribute('aria-invalid', 'true');
      reason.input.focus();
      return;
    }
    reason.input.removeAttribute('aria-invalid');
    const body = why ? { status: target, reason: why } : { status: target };
    patch(body, statusBtn, 'Saving…', () => `Status is now ${target.replace(/_/g, ' ')}.`).then((ok) => {
      if (ok) reason.input.value = '';
    });
  });

  /** Shows the options that fit the exception as it is now. */
  function update(ex) {
    current = ex;
    const mine = ex.owner && ex.owner.type === 'user' && ex.owner.id === username();
    assignMe.hidden = Boolean(mine);
    if (document.activeElement !== severity.input) severity.input.value = ex.severity || 'medium';
    const next = TRANSITIONS[ex.status] || [];
    const chosen = status.input.value;
    status.input.replaceChildren(...next.map((s) => h('option', { value: s }, STATUS_VERBS[s] || s)));
    if (next.includes(chosen)) status.input.value = chosen;
    statusGroup.hidden = next.length === 0;
  }

  return { el, update, current: () => current };
}
