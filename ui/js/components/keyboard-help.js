// The "?" keyboard help: a small dialog listing the shortcuts; Esc closes it and focus goes
// back where it was.
import { h } from '../dom.js';

const SHORTCUTS = [
  ['j', 'Next exception in the list'],
  ['k', 'Previous exception in the list'],
  ['Enter', 'Open the focused exception'],
  ['?', 'Show this help'],
  ['Esc', 'Close this help or a dialog'],
];

export function keyboardHelp() {
  const closeBtn = h('button', { type: 'button', class: 'btn btn-sm' }, 'Close');
  const el = h(
    'div',
    { class: 'kbd-help', role: 'dialog', 'aria-modal': 'false', 'aria-labelledby': 'kbd-help-title', hidden: true, 'data-testid': 'keyboard-help', tabindex: '-1' },
    h('h2', { id: 'kbd-help-title' }, 'Keyboard shortcuts'),
    h('dl', { class: 'kbd-list' }, SHORTCUTS.map(([key, what]) => h('div', {}, h('dt', {}, h('kbd', {}, key)), h('dd', {}, what)))),
    closeBtn,
  );
  let returnTo = null;
  function open(from) {
    returnTo = from || document.activeElement;
    el.hidden = false;
    el.focus();
  }
  function close() {
    if (el.hidden) return false;
    el.hidden = true;
    if (returnTo && returnTo.isConnected) returnTo.focus();
    return true;
  }
  closeBtn.addEventListener('click', close);
  return { el, open, close };
}
