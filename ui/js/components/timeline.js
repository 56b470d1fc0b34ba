// Timeline of one exception: every event oldest first, a type filter built from
// the types present, and a comment box.
import { h, replace, field, uid, icon } from '../dom.js';
import { api, seg } from '../api.js';
import { errorSlot, showApiError, clearError, setBusy, announce } from './feedback.js';
import { eventItem } from './event-view.js';

export function timeline({ exceptionId, onChanged, canComment = true }) {
  const titleId = uid('tl-title');
  const count = h('span', { class: 'count-pill' }, '0');
  const filter = field('Event type', h('select', { name: 'event_type' }, h('option', { value: '' }, 'All types')), { className: 'inline-field' });
  const list = h('ol', { class: 'events', 'aria-labelledby': titleId });
  const empty = h('p', { class: 'muted empty-line', hidden: true }, 'No events of this type.');
  const loadErr = errorSlot();

  const text = h('textarea', { name: 'text', rows: '3', maxlength: '4000', placeholder: 'Add context for the next person on this exception' });
  const comment = field('Add a comment', text);
  const commentErr = errorSlot();
  const commentBtn = h('button', { type: 'submit', class: 'btn' }, icon('comment'), h('span', { class: 'btn-label' }, 'Add comment'));
  const commentForm = h('form', { class: 'comment-form', novalidate: true, hidden: !canComment }, comment.wrap, commentErr, h('div', { class: 'form-actions' }, commentBtn));
  // Oldest first is the default (UI.md); newest first is one click away and remembered.
  const orderBtn = h('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'data-testid': 'timeline-order', 'aria-pressed': 'false' });
  let newestFirst = localStorage.getItem('timeline-order') === 'newest';
  const paintOrder = () => {
    orderBtn.textContent = newestFirst ? 'Newest first' : 'Oldest first';
    orderBtn.setAttribute('aria-pressed', String(newestFirst));
    orderBtn.title = newestFirst ? 'Show the oldest events first' : 'Show the newest events first';
  };
  paintOrder();
  orderBtn.addEventListener('click', () => {
    newestFirst = !newestFirst;
    localStorage.setItem('timeline-order', newestFirst ? 'newest' : 'oldest');
    paintOrder();
    renderList();
  });

  const el = h(
    'section',
    { class: 'card timeline', 'data-testid': 'timeline', 'aria-labelledby': titleId },
    h('div', { class: 'card-head' }, h('h2', { id: titleId }, 'Timeline ', count), h('div', { class: 'timeline-controls' }, orderBtn, filter.wrap)),
    loadErr,
    list,
    empty,
    commentForm,
  );

  let events = [];
  let lastKey = '';

  function renderList() {
    const type = filter.input.value;
    const shown = type ? events.filter((e) => e.event_type === type) : events;
    // Filtered-out events are removed, not hidden, so counts match what people see.
    // Agent suggestions: only the latest is shown in full, earlier ones are marked superseded.
    const suggestions = shown.filter((e) => e.event_type === 'ResolutionSuggested');
    const superseded = new Set(suggestions.slice(0, -1).map((e) => e.event_id));
    const seen = new Set(); // reasoning already shown (in time order), so repeats collapse
    const items = new Map(shown.map((e) => [e.event_id, eventItem(e, { seen, superseded })]));
    const ordered = newestFirst ? [...shown].reverse() : shown;
    replace(list, ordered.map((e) => items.get(e.event_id)));
    empty.hidden = shown.length > 0 || events.length === 0;
    count.textContent = type ? `${shown.length} of ${events.length}` : String(events.length);
  }

  function renderFilter() {
    const current = filter.input.value;
    const counts = new Map();
    for (const e of events) counts.set(e.event_type, (counts.get(e.event_type) || 0) + 1);
    const types = [...counts.keys()].sort();
    replace(
      filter.input,
      h('option', { value: '' }, `All types (${events.length})`),
      types.map((t) => h('option', { value: t, selected: t === current }, `${t} (${counts.get(t)})`)),
    );
    filter.input.value = types.includes(current) ? current : '';
  }

  filter.input.addEventListener('change', renderList);

  /** Replaces the events; re-renders only when something new arrived (keeps open <details>). */
  function update(items) {
    const key = `${items.length}:${items.length ? items[items.length - 1].event_id : ''}`;
    if (key === lastKey) return;
    lastKey = key;
    events = items;
    clearError(loadErr);
    renderFilter();
    renderList();
  }

  commentForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearError(commentErr);
    const value = text.value.trim();
    if (!value) {
      showApiError(commentErr, new Error('Write something before adding a comment.'));
      text.focus();
      return;
    }
    const restore = setBusy(commentBtn, 'Adding…');
    try {
      await api.post(`/api/exceptions/${seg(exceptionId)}/comments`, { text: value });
      text.value = '';
      announce('Comment added');
      restore();
      await onChanged();
    } catch (e) {
      restore();
      showApiError(commentErr, e);
    }
  });

  return { el, update, showLoadError: (e) => showApiError(loadErr, e) };
}
