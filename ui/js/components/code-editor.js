// JSON editing aids for the playbook editor: a line-number gutter, the offset of every JSON path
// (so a problem at "steps[2].params.tool_id" jumps to its line), a schema-driven outline and a
// clickable problems list. No framework, no innerHTML.
import { h, replace } from '../dom.js';
import { api } from '../api.js';

/** Map of JSON path (as the API spells problem paths) -> offset where it starts in `text`. */
export function pathOffsets(text) {
  const offsets = new Map();
  let i = 0;
  const space = () => {
    while (i < text.length && /\s/.test(text[i])) i += 1;
  };
  const string = () => {
    const start = i;
    i += 1;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i += 1;
    try {
      return JSON.parse(text.slice(start, i));
    } catch {
      return '';
    }
  };
  const value = (path) => {
    space();
    if (!offsets.has(path)) offsets.set(path, i);
    const c = text[i];
    if (c === '{') {
      i += 1;
      for (;;) {
        space();
        if (text[i] === '}' || i >= text.length) break;
        if (text[i] !== '"') throw new Error('key');
        const keyAt = i;
        const key = string();
        const child = path ? `${path}.${key}` : key;
        offsets.set(child, keyAt);
        space();
        i += 1; // ':'
        value(child);
        space();
        if (text[i] === ',') i += 1;
      }
      i += 1;
    } else if (c === '[') {
      i += 1;
      for (let n = 0; ; n += 1) {
        space();
        if (text[i] === ']' || i >= text.length) break;
        value(`${path}[${n}]`);
        space();
        if (text[i] === ',') i += 1;
      }
      i += 1;
    } else if (c === '"') {
      string();
    } else {
      while (i < text.length && !/[\s,\]}]/.test(text[i])) i += 1;
    }
  };
  try {
    value('');
  } catch {
    // a document that does not parse: whatever was found so far still helps
  }
  return offsets;
}

/** The offset of `path`, or of its closest ancestor that exists in the text. */
export function offsetOf(text, path) {
  const offsets = pathOffsets(text);
  let p = path || '';
  while (p) {
    if (offsets.has(p)) return offsets.get(p);
    const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
    p = cut > 0 ? p.slice(0, cut) : '';
  }
  return 0;
}

export const lineOf = (text, offset) => text.slice(0, offset).split('\n').length;

/** A textarea with a line-number gutter. Returns {el, textarea, jumpTo(path), mark(lines)}. */
export function codeEditor(textarea) {
  const gutter = h('pre', { class: 'code-gutter', 'aria-hidden': 'true', 'data-testid': 'editor-gutter' });
  let marked = new Set();
  const paint = () => {
    const count = textarea.value.split('\n').length;
    const rows = [];
    for (let n = 1; n <= count; n += 1) rows.push(h('span', { class: marked.has(n) ? 'gutter-line marked' : 'gutter-line' }, String(n)));
    replace(gutter, rows);
    gutter.scrollTop = textarea.scrollTop;
  };
  textarea.addEventListener('input', paint);
  textarea.addEventListener('scroll', () => {
    gutter.scrollTop = textarea.scrollTop;
  });
  textarea.setAttribute('wrap', 'off');
  const el = h('div', { class: 'code-editor' }, gutter, textarea);
  paint();
  return {
    el,
    textarea,
    refresh: paint,
    mark(lines) {
      marked = new Set(lines);
      paint();
    },
    jumpTo(path) {
      const text = textarea.value;
      const at = offsetOf(text, path);
      textarea.focus();
      textarea.setSelectionRange(at, at);
      const line = lineOf(text, at);
      const height = parseFloat(getComputedStyle(textarea).lineHeight) || 20;
      textarea.scrollTop = Math.max(0, (line - 3) * height);
      gutter.scrollTop = textarea.scrollTop;
      return line;
    },
  };
}

let schemaPromise = null;
/** The playbook body schema from the public OpenAPI document (fetched once). */
export function playbookSchema() {
  if (!schemaPromise) {
    schemaPromise = api
      .get('/api/openapi.json')
      .then((doc) => doc.paths['/api/playbooks'].post.requestBody.content['application/json'].schema)
      .catch(() => null);
  }
  return schemaPromise;
}

/** Outline of the document, driven by the schema's fields; each entry jumps to its line. */
export function outlineView(doc, schema, onJump) {
  const props = (schema && schema.properties) || { name: {}, description: {}, conditions: {}, steps: {} };
  const required = new Set((schema && schema.required) || ['name', 'steps']);
  const entry = (label, path, extra, missing = false) =>
    h(
      'li',
      { class: missing ? 'outline-missing' : '' },
      h('button', { type: 'button', class: 'link-button mono', 'data-testid': 'outline-entry', 'data-path': path, onclick: () => onJump(path), disabled: missing }, label),
      extra ? h('span', { class: 'muted' }, ` ${extra}`) : null,
      missing ? h('span', { class: 'badge warning' }, 'missing') : null,
    );
  const items = [];
  const body = doc && typeof doc === 'object' && !Array.isArray(doc) ? doc : {};
  for (const key of Object.keys(props)) {
    const present = key in body;
    if (!present && !required.has(key)) continue;
    if (key === 'conditions' && present) {
      const match = (body.conditions && (body.conditions.match || body.conditions)) || {};
      const keys = Object.keys(match).filter((k) => k !== 'priority');
      items.push(entry('conditions', 'conditions', `priority ${body.conditions.priority ?? 0}`));
      items.push(h('ul', {}, keys.map((k) => entry(k, `conditions.match.${k}`, ''))));
    } else if (key === 'steps' && Array.isArray(body.steps)) {
      items.push(entry('steps', 'steps', `${body.steps.length}`));
      items.push(h('ol', {}, body.steps.map((s, n) => entry(`${(s && s.name) || '(unnamed)'}`, `steps[${n}]`, s && s.action_type))));
    } else {
      items.push(entry(key, key, '', !present));
    }
  }
  return h('ul', { class: 'outline', 'data-testid': 'editor-outline' }, items);
}

/** The lint findings, each a button that jumps to its line. */
export function findingsView(lint, onJump) {
  if (!lint) return null;
  const findings = lint.findings || [];
  return h(
    'section',
    { class: `lint-panel ${lint.ok ? 'lint-ok' : 'lint-errors'}`, 'data-testid': 'lint-findings', 'aria-live': 'polite' },
    h('h3', {}, lint.ok ? 'Ready to publish' : 'Fix before publishing', h('span', { class: 'muted' }, ` · ${lint.errors} error${lint.errors === 1 ? '' : 's'}, ${lint.warnings} warning${lint.warnings === 1 ? '' : 's'}`)),
    findings.length
      ? h(
          'ul',
          { class: 'finding-list' },
          findings.map((f) =>
            h(
              'li',
              { class: `finding ${f.severity}`, 'data-testid': 'lint-finding', 'data-severity': f.severity, 'data-rule': f.rule, 'data-path': f.path },
              h('span', { class: `badge ${f.severity === 'error' ? 'danger' : 'warning'}` }, f.severity),
              ' ',
              h('button', { type: 'button', class: 'link-button mono', onclick: () => onJump(f.path) }, f.path),
              ' ',
              f.message,
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'No findings.'),
  );
}
