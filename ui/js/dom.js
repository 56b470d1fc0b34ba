// Tiny DOM builder. Every piece of server data goes through text nodes or
// setAttribute, never innerHTML, so nothing the API returns can become markup.

const BOOLEAN_PROPS = new Set(['disabled', 'hidden', 'checked', 'selected', 'required', 'open', 'readOnly', 'multiple']);

/**
 * h('button', {class: 'btn', onclick: fn, 'data-testid': 'x'}, 'Label', childNode, [more])
 * - `on*` keys register event listeners,
 * - boolean props are set as properties (so `disabled: false` really enables),
 * - `value` is set as a property (inputs/textarea/select),
 * - everything else is an attribute; null/undefined/false skip the attribute.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

export function setAttrs(el, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (BOOLEAN_PROPS.has(key)) {
      el[key] = Boolean(value);
    } else if (key === 'value') {
      el.value = value ?? '';
    } else if (value === null || value === undefined || value === false) {
      el.removeAttribute(key);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  return el;
}

/** Appends strings (as text), nodes and (nested) arrays; skips null/false. */
export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false || child === '') continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replaces all children of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

let idCounter = 0;
/** Unique ids for label/for and aria-describedby pairs. */
export function uid(prefix = 'id') {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

// Static, hand-written icon paths (24x24 viewBox, stroked). Never server data.
const ICONS = {
  human: ['M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8z', 'M4 21c0-4 3.6-7 8-7s8 3 8 7'],
  agent: ['M7 8h10a3 3 0 0 1 3 3v6a3 3 0 0 1-3 3H7a3 3 0 0 1-3-3v-6a3 3 0 0 1 3-3z', 'M12 4v4', 'M9 13h.01', 'M15 13h.01', 'M9.5 17h5'],
  system: ['M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6z', 'M19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z'],
  playbook: ['M5 4h11l3 3v13H5z', 'M9 10h6', 'M9 14h6', 'M9 18h3'],
  check: ['M5 12l5 5 9-10'],
  skip: ['M5 5l8 7-8 7z', 'M17 5v14'],
  flag: ['M5 21V4', 'M5 4h11l-2 4 2 4H5'],
  clock: ['M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z', 'M12 7v5l3 2'],
  alert: ['M12 3l10 18H2z', 'M12 10v4', 'M12 17.5v.01'],
  refresh: ['M20 11a8 8 0 0 0-14.9-3.6L4 9', 'M4 4v5h5', 'M4 13a8 8 0 0 0 14.9 3.6L20 15', 'M20 20v-5h-5'],
  arrowLeft: ['M19 12H5', 'M11 6l-6 6 6 6'],
  comment: ['M4 5h16v11H9l-5 4z'],
};

/** An inline SVG icon, hidden from assistive tech (the text next to it carries meaning). */
export function icon(name, className = 'icon') {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', className);
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  for (const d of ICONS[name] || []) {
    const path = document.createElementNS(SVG_NS, 'path');
    path.setAttribute('d', d);
    svg.append(path);
  }
  return svg;
}

/** A labelled form field: returns {wrap, input, hint} so callers can show field errors. */
export function field(label, input, { hint = '', className = '' } = {}) {
  const id = input.id || uid('f');
  input.id = id;
  const hintEl = h('p', { class: 'field-error', id: `${id}-err`, hidden: true });
  const help = hint ? h('p', { class: 'field-hint', id: `${id}-hint` }, hint) : null;
  if (help) input.setAttribute('aria-describedby', `${id}-hint`);
  const wrap = h('div', { class: `field ${className}`.trim() }, h('label', { for: id }, label), input, help, hintEl);
  return { wrap, input, error: hintEl };
}

/** Shows or clears a per-field error message and wires aria-invalid/aria-describedby. */
export function setFieldError(f, message) {
  const ids = (f.input.getAttribute('aria-describedby') || '').split(' ').filter((x) => x && x !== f.error.id);
  if (message) {
    f.error.textContent = message;
    f.error.hidden = false;
    f.input.setAttribute('aria-invalid', 'true');
    ids.push(f.error.id);
  } else {
    f.error.textContent = '';
    f.error.hidden = true;
    f.input.removeAttribute('aria-invalid');
  }
  if (ids.length) f.input.setAttribute('aria-describedby', ids.join(' '));
  else f.input.removeAttribute('aria-describedby');
}
