// Error slots, busy buttons and the polite announcer.
//
// Outside tests address the error as data-testid="error-message", so at most one
// element carries that id at any time: showing an error in one slot clears the others.
import { h, replace } from '../dom.js';

const TESTID = 'error-message';

/** An empty error slot; place it next to the control whose failures it reports. */
export function errorSlot(extraClass = '') {
  return h('div', { class: `error-box ${extraClass}`.trim(), role: 'alert', hidden: true });
}

export function clearError(slot) {
  if (!slot) return;
  slot.hidden = true;
  slot.removeAttribute('data-testid');
  slot.replaceChildren();
}

/**
 * Shows `message` in `slot` (and only there). `problems` is a list of
 * {path, message} rendered as list items with the path in <code>.
 */
export function showError(slot, message, { problems = [], title = '' } = {}) {
  for (const other of document.querySelectorAll(`[data-testid="${TESTID}"]`)) {
    if (other !== slot) clearError(other);
  }
  slot.setAttribute('data-testid', TESTID);
  slot.hidden = false;
  replace(
    slot,
    title ? h('p', { class: 'error-title' }, title) : null,
    h('p', { class: 'error-text' }, message),
    problems.length
      ? h(
          'ul',
          { class: 'problem-list' },
          problems.map((p) => h('li', {}, p.path ? h('code', {}, p.path) : null, p.path ? ' ' : null, p.message)),
        )
      : null,
  );
  return slot;
}

/** Shows an ApiError (or any Error) the way operators need: the server's own message. */
export function showApiError(slot, err, { withProblems = true } = {}) {
  if (err && err.name === 'AbortError') return;
  const problems = withProblems && err && err.fieldErrors ? err.fieldErrors : [];
  const status = err && err.status ? `${err.status} ${err.code || ''}`.trim() : '';
  showError(slot, (err && err.message) || 'Something went wrong.', { problems, title: status });
}

/** Marks a button as running: disabled, aria-busy, label swapped. Returns a restore function. */
export function setBusy(button, busyLabel) {
  const label = button.querySelector('.btn-label') || button;
  const original = label.textContent;
  const wasDisabled = button.disabled;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  button.classList.add('is-busy');
  if (busyLabel) label.textContent = busyLabel;
  return () => {
    button.disabled = wasDisabled;
    button.removeAttribute('aria-busy');
    button.classList.remove('is-busy');
    label.textContent = original;
  };
}

/** Polite screen-reader announcement (#announcer lives in index.html). */
export function announce(message) {
  const el = document.getElementById('announcer');
  if (!el) return;
  el.textContent = '';
  // A fresh text node on the next frame makes repeated identical messages announce again.
  requestAnimationFrame(() => {
    el.textContent = message;
  });
}

/** A small loading placeholder with aria-busy on its container. */
export function loading(text = 'Loading…') {
  return h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), text);
}

/**
 * Loads what a view needs: the result of `load()`, or undefined when the view should stop (the
 * route changed, or the load failed: then the error replaces the loading indicator).
 */
export async function loadView(ctx, container, slot, load) {
  try {
    const value = await load();
    return ctx.alive() ? value : undefined;
  } catch (e) {
    if (!ctx.alive() || e.name === 'AbortError') return undefined;
    container.lastChild.remove();
    showApiError(slot, e);
    return undefined;
  }
}
