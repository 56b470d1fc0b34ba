// Bulk actions of the work queue (operators): assign the selected exceptions to me, or
// resolve them with one reason. Each is one PATCH per exception; what failed (and why) is
// listed, what succeeded is not repeated.
import { h, replace, field } from '../dom.js';
import { api, seg } from '../api.js';
import { errorSlot, showError, clearError, setBusy, announce } from './feedback.js';
import { username } from '../roles.js';
import { humanError } from './error-words.js';

export function bulkBar({ selected, onDone }) {
  const countEl = h('span', { class: 'bulk-count', 'data-testid': 'bulk-count' });
  const assignBtn = h('button', { type: 'button', class: 'btn btn-sm', 'data-testid': 'bulk-assign' }, 'Assign to me');
  const reason = field('Reason to resolve', h('input', { name: 'bulk-reason', maxlength: '1000', autocomplete: 'off', 'data-testid': 'bulk-reason' }), { className: 'inline-field' });
  const resolveBtn = h('button', { type: 'button', class: 'btn btn-sm', 'data-testid': 'bulk-resolve' }, 'Resolve');
  const err = errorSlot();
  const result = h('p', { class: 'bulk-result', role: 'status' });
  const el = h(
    'div',
    { class: 'bulk-bar', 'data-testid': 'bulk-bar', hidden: true },
    countEl,
    assignBtn,
    reason.wrap,
    resolveBtn,
    result,
    err,
  );

  function refresh() {
    el.hidden = selected.size === 0;
    countEl.textContent = `${selected.size} selected`;
  }

  async function each(body, button, label) {
    clearError(err);
    const restore = setBusy(button, label);
    const failures = [];
    let done = 0;
    for (const id of [...selected]) {
      try {
        await api.patch(`/api/exceptions/${seg(id)}`, body);
        done += 1;
        selected.delete(id);
      } catch (e) {
        failures.push(`${id}: ${humanError(e)}`);
      }
    }
    restore();
    result.textContent = `${done} updated.`;
    if (failures.length) showError(err, `${failures.length} could not be changed.`, { problems: failures.map((message) => ({ path: '', message })) });
    announce(result.textContent);
    refresh();
    await onDone();
    button.focus();
  }

  assignBtn.addEventListener('click', () => each({ owner: { type: 'user', id: username() } }, assignBtn, 'Assigning…'));
  resolveBtn.addEventListener('click', () => {
    const why = reason.input.value.trim();
    if (!why) {
      showError(err, 'Give a reason to resolve: it goes on each exception’s timeline.');
      reason.input.focus();
      return;
    }
    each({ status: 'resolved', reason: why }, resolveBtn, 'Resolving…');
  });
  return { el, refresh };
}
