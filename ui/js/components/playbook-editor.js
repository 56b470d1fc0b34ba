// Playbook editor: the playbook as validated JSON. Client-side parse errors are
// caught before sending; the server's 422 problems are listed by path right under
// the input (in the error-message box).
import { h, uid, replace } from '../dom.js';
import { api, seg } from '../api.js';
import { errorSlot, showError, showApiError, clearError, setBusy } from './feedback.js';
import { parseJson, focusPosition } from './json-input.js';
import { ACTION_LABELS } from './step-describe.js';
import { codeEditor, outlineView, findingsView, playbookSchema, offsetOf, lineOf } from './code-editor.js';

/** A starting document for the tenant's own domain (and a type it has seen), when known. */
export function starterTemplate(domain, exceptionType) {
  if (!domain) return NEW_TEMPLATE;
  return {
    name: `${exceptionType || domain} - first response`,
    description: `What to do first about ${exceptionType || 'exceptions'} in ${domain}`,
    conditions: { match: exceptionType ? { domain, exception_type: exceptionType } : { domain }, priority: 10 },
    steps: [
      { name: 'Note the exception', action_type: 'add_comment', params: { text: '{exception.exception_type} raised: {exception.summary}' } },
      { name: 'Route to the team queue', action_type: 'assign_owner', params: { queue: `${domain}-ops` } },
    ],
  };
}

export const NEW_TEMPLATE = {
  name: 'Settlement fail - standard',
  description: 'Investigate and retry a failed settlement',
  conditions: {
    match: { domain: 'CapitalMarkets', exception_type: 'SETTLEMENT_FAIL', severity_in: ['medium', 'high'] },
    priority: 100,
  },
  steps: [
    {
      name: 'Notify the desk',
      action_type: 'notify',
      params: { channel: 'email', group: 'SettlementsOps', subject: 'Fail on {exception.attributes.trade_id}', message: '{exception.summary}' },
    },
    { name: 'Assign to settlements queue', action_type: 'assign_owner', params: { queue: 'SettlementsOps' } },
  ],
};

const CONDITION_KEYS = [
  ['domain', '"CapitalMarkets"'],
  ['exception_type', '"SETTLEMENT_*" (glob)'],
  ['severity', '"high"'],
  ['severity_in', '["high", "critical"]'],
  ['sla_minutes_remaining_lt', '120'],
  ['policy_tags', '["regulatory"]'],
  ['attributes', '{"amount": {"gte": 1000}}'],
  ['any_of', '[{...}, {...}]'],
];

const ACTION_PARAMS = {
  notify: 'channel (email|slack|sms|log), recipient or group, subject, message',
  assign_owner: 'user_id or queue',
  set_status: 'status',
  add_comment: 'text',
  call_tool: 'tool_id, payload {…}',
};

function reference() {
  return h(
    'aside',
    { class: 'editor-ref', 'aria-label': 'Playbook reference' },
    h('h3', {}, 'Condition keys'),
    h('dl', { class: 'ref-list' }, CONDITION_KEYS.map(([k, v]) => h('div', {}, h('dt', { class: 'mono' }, k), h('dd', { class: 'mono muted' }, v)))),
    h('h3', {}, 'Action types'),
    h('dl', { class: 'ref-list' }, Object.entries(ACTION_PARAMS).map(([k, v]) => h('div', {}, h('dt', { class: 'mono' }, k, h('span', { class: 'muted' }, ` · ${ACTION_LABELS[k]}`)), h('dd', { class: 'muted' }, v)))),
    h('h3', {}, 'Step options'),
    h('p', { class: 'muted small' }, h('code', {}, 'requires_approval'), ' (a person must complete it), ', h('code', {}, 'skippable'), ' (default true).'),
    h('h3', {}, 'Templates'),
    h('p', { class: 'muted small' }, h('code', {}, '{exception.FIELD}'), ' ', h('code', {}, '{exception.attributes.PATH}'), ' ', h('code', {}, '{domain.FIELD}'), ' ', h('code', {}, '{policy.FIELD}'), ' ', h('code', {}, '{step.FIELD}')),
  );
}

/**
 * mode 'create' posts a new playbook; 'edit' puts a new version of `playbookId`.
 * onSaved(playbook) runs after a successful save.
 */
export function playbookEditor({ mode, playbookId, initial, onSaved, onCancel, onDraftSaved, onSubmit, saveLabel, saveTestId = 'playbook-save', extraActions = [] }) {
  const inputId = uid('pbjson');
  const textarea = h('textarea', {
    id: inputId,
    class: 'mono json-editor',
    rows: '20',
    spellcheck: 'false',
    'data-testid': 'playbook-json',
    'aria-describedby': `${inputId}-hint`,
    value: JSON.stringify(initial || NEW_TEMPLATE, null, 2),
  });
  const err = errorSlot('editor-errors');
  const save = h(
    'button',
    { type: 'submit', class: 'btn btn-primary', 'data-testid': saveTestId },
    h('span', { class: 'btn-label' }, saveLabel || (mode === 'edit' ? 'Save as new version' : 'Create playbook')),
  );
  const format = h('button', { type: 'button', class: 'btn' }, 'Format JSON');
  const cancel = onCancel ? h('button', { type: 'button', class: 'btn btn-ghost', onclick: onCancel }, 'Cancel') : null;
  const check = h('button', { type: 'button', class: 'btn', 'data-testid': 'lint-run' }, h('span', { class: 'btn-label' }, 'Check'));
  const saveDraft = onDraftSaved
    ? h('button', { type: 'button', class: 'btn', 'data-testid': 'draft-save' }, h('span', { class: 'btn-label' }, 'Save as draft'))
    : null;
  const editor = codeEditor(textarea);
  const outlineHost = h('div', { class: 'outline-host' });
  const problemsHost = h('div', { class: 'problems-host' });
  const jump = (path) => editor.jumpTo(path);
  let schema = null;
  const drawOutline = () => {
    const parsed = parseJson(textarea.value);
    if (!parsed.error) replace(outlineHost, outlineView(parsed.value, schema, jump));
  };
  playbookSchema().then((found) => {
    schema = found;
    drawOutline();
  });
  let outlineTimer = null;
  textarea.addEventListener('input', () => {
    clearTimeout(outlineTimer);
    outlineTimer = setTimeout(drawOutline, 250);
  });
  drawOutline();
  /** Shows findings (or 422 problems as error findings), clickable, and marks their lines. */
  const showFindings = (lint) => {
    replace(problemsHost, findingsView(lint, jump));
    const text = textarea.value;
    editor.mark((lint.findings || []).map((f) => jumpLine(text, f.path)));
  };
  const documentOrError = () => {
    const parsed = parseJson(textarea.value);
    if (parsed.error) {
      showError(err, parsed.error);
      focusPosition(textarea, parsed.position);
      return null;
    }
    return parsed.value;
  };
  /** Runs `action(body)` on the parsed document ({playbook, playbook_id?}) with `button` busy. */
  const onDocument = (button, busyLabel, action) =>
    button.addEventListener('click', async () => {
      clearError(err);
      const doc = documentOrError();
      if (!doc) return;
      const restore = setBusy(button, busyLabel);
      const body = { playbook: doc };
      if (playbookId) body.playbook_id = playbookId;
      try {
        await action(body);
      } catch (e) {
        showApiError(err, e);
        if (e.fieldErrors && e.fieldErrors.length) showFindings(problemsAsLint(e.fieldErrors));
      } finally {
        restore();
      }
    });
  onDocument(check, 'Checking…', async (body) => showFindings(await api.post('/api/playbooks/lint', body)));
  if (saveDraft) onDocument(saveDraft, 'Saving draft…', async (body) => onDraftSaved(await api.post('/api/playbook-drafts', body)));

  format.addEventListener('click', () => {
    const parsed = parseJson(textarea.value);
    if (parsed.error) {
      showError(err, parsed.error);
      focusPosition(textarea, parsed.position);
      return;
    }
    clearError(err);
    textarea.value = JSON.stringify(parsed.value, null, 2);
    editor.refresh();
  });

  const form = h(
    'form',
    { class: 'editor-form', novalidate: true },
    h('label', { for: inputId, class: 'editor-label' }, 'Playbook JSON'),
    h('p', { class: 'field-hint', id: `${inputId}-hint` }, 'An object with name, description, conditions {match, priority} and steps [{name, action_type, params}].'),
    editor.el,
    err,
    problemsHost,
    h('div', { class: 'form-actions' }, save, saveDraft, check, ...extraActions, format, cancel),
  );

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearError(err);
    textarea.removeAttribute('aria-invalid');
    const parsed = parseJson(textarea.value);
    if (parsed.error) {
      textarea.setAttribute('aria-invalid', 'true');
      showError(err, parsed.error);
      focusPosition(textarea, parsed.position);
      return;
    }
    if (!parsed.value || typeof parsed.value !== 'object' || Array.isArray(parsed.value)) {
      textarea.setAttribute('aria-invalid', 'true');
      showError(err, 'The playbook must be a JSON object.');
      return;
    }
    const restore = setBusy(save, 'Saving…');
    try {
      const saved = onSubmit
        ? await onSubmit(parsed.value)
        : mode === 'edit'
          ? await api.put(`/api/playbooks/${seg(playbookId)}`, parsed.value)
          : await api.post('/api/playbooks', parsed.value);
      restore();
      onSaved(saved);
    } catch (e) {
      restore();
      if (e.status === 422) textarea.setAttribute('aria-invalid', 'true');
      const problems = e.fieldErrors || [];
      showApiError(err, e);
      if (problems.length) {
        err.querySelector('.error-text').textContent = `${e.message} (${problems.length} problem${problems.length === 1 ? '' : 's'})`;
        showFindings(problemsAsLint(problems));
      }
      err.scrollIntoView({ block: 'nearest' });
    }
  });

  const layout = h('div', { class: 'editor-layout' }, form, h('div', { class: 'stack' }, h('aside', { class: 'editor-ref', 'aria-label': 'Outline' }, h('h3', {}, 'Outline'), outlineHost), reference()));
  layout.editor = editor;
  layout.showFindings = showFindings;
  layout.documentOrError = documentOrError;
  layout.errorSlot = err;
  return layout;
}

/** 422 problems shown like lint errors (clickable to their line). */
export function problemsAsLint(problems) {
  return {
    ok: false,
    errors: problems.length,
    warnings: 0,
    findings: problems.map((p) => ({ severity: 'error', rule: 'invalid', path: p.path, message: p.message })),
  };
}

function jumpLine(text, path) {
  return lineOf(text, offsetOf(text, path));
}

/** The editable part of a stored version: what PUT accepts. */
export function editableBody(pb) {
  return {
    name: pb.name,
    description: pb.description ?? '',
    conditions: pb.conditions,
    steps: (pb.steps || []).map((s) => {
      const step = { name: s.name, action_type: s.action_type, params: s.params || {} };
      if (s.requires_approval) step.requires_approval = true;
      if (s.skippable === false) step.skippable = false;
      return step;
    }),
  };
}
