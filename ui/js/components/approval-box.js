// Two-person approval on a step that is awaiting_approval: who asked, when, approvals so far,
// the quorum and the expiry, and (for anyone but the requester) Approve / Reject with a reason.
import { h, icon, uid } from '../dom.js';
import { api, newIdempotencyKey } from '../api.js';
import { currentUser } from '../auth.js';
import { formatDateTime, relativeTime } from '../format.js';
import { errorSlot, showError, showApiError, clearError, setBusy, announce } from './feedback.js';

export function approvalBox(step, { base, onDone }) {
  const request = step.approval;
  const n = step.step_order;
  const me = currentUser();
  const mine = me && me.username === request.requested_by;
  const approvedByMe = me && request.approvals.some((a) => a.actor_id === me.username);
  const err = errorSlot('step-error');
  const reasonId = uid('reason');
  const reason = h('textarea', { id: reasonId, class: 'notes-input', rows: '2', maxlength: '4000', 'data-testid': 'approval-reason', placeholder: 'Notes when approving; the reason when rejecting (required)' });

  async function decide(kind, button) {
    clearError(err);
    const text = reason.value.trim();
    if (kind === 'reject' && !text) {
      showError(err, 'Say why: a reason is required to reject.');
      reason.focus();
      return;
    }
    const restore = setBusy(button, kind === 'approve' ? 'Approving…' : 'Rejecting…');
    try {
      await api.post(`${base}/steps/${n}/${kind}`, text ? { notes: text } : {}, { headers: { 'Idempotency-Key': newIdempotencyKey() } });
      announce(kind === 'approve' ? `Step ${n} approved` : `Step ${n} rejected`);
      restore();
      await onDone();
    } catch (e) {
      restore();
      showApiError(err, e);
    }
  }

  const approve = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': `approve-step-${n}` }, icon('check'), h('span', { class: 'btn-label' }, 'Approve'));
  const reject = h('button', { type: 'button', class: 'btn', 'data-testid': `reject-step-${n}` }, h('span', { class: 'btn-label' }, mine ? 'Withdraw' : 'Reject'));
  approve.addEventListener('click', () => decide('approve', approve));
  reject.addEventListener('click', () => decide('reject', reject));
  const given = request.approvals.map((a) => a.actor_id).join(', ') || 'none yet';
  return h(
    'div',
    { class: 'approval-box', 'data-testid': `approval-request-${n}` },
    h('p', { class: 'strong' }, icon('flag'), ` Waiting for approval: ${request.approvals.length} of ${request.quorum}`),
    h(
      'p',
      { class: 'muted small' },
      `Asked by ${request.requested_by} `,
      h('time', { datetime: request.requested_at, title: formatDateTime(request.requested_at) }, relativeTime(request.requested_at)),
      ` · approved by ${given} · `,
      request.expired ? h('strong', {}, 'expired: complete the step again to ask anew') : `expires ${formatDateTime(request.expires_at)}`,
      ` · approvers hold: ${request.roles.join(', ')}`,
    ),
    request.expired || approvedByMe
      ? null
      : h('div', { class: 'step-actions' }, h('label', { for: reasonId }, `Notes or reason for step ${n}`), reason, h('div', { class: 'step-buttons' }, mine ? null : approve, reject)),
    mine ? h('p', { class: 'muted small' }, 'You asked for this step: someone else must approve it.') : null,
    err,
  );
}
