// Playbook editor: the playbook as validated JSON. Client-side parse errors are
// caught before sending; the server's 422 problems are listed by path right under
// the input (in the error-message box).
import { h, uid } from '../dom.js';
import { api, seg } from '../api.js';
import { errorSlot, showError, showApiError, clearError, setBusy } from './feedback.js';
import { parseJson, focusPosition } from './json-input.js';
import { ACTION_LABELS } from './step-describe.js';

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
export function playbookEditor({ mode, playbookId, initial, onSaved, onCancel }) {
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
    { type: 'submit', class: 'btn btn-primary', 'data-testid': 'playbook-save' },
    h('span', { class: 'btn-label' }, mode === 'edit' ? 'Save as new version' : 'Create playbook'),
  );
  const format = h('button', { type: 'button', class: 'btn' }, 'Format JSON');
  const cancel = onCancel ? h('button', { type: 'button', class: 'btn btn-ghost', onclick: onCancel }, 'Cancel') : null;

  format.addEventListener('click', () => {
    const parsed = parseJson(textarea.value);
    if (parsed.error) {
      showError(err, parsed.error);
      focusPosition(textarea, parsed.position);
      return;
    }
    clearError(err);
    textarea.value = JSON.stringify(parsed.value, null, 2);
  });

  const form = h(
    'form',
    { class: 'editor-form', novalidate: true },
    h('label', { for: inputId, class: 'editor-label' }, 'Playbook JSON'),
    h('p', { class: 'field-hint', id: `${inputId}-hint` }, 'An object with name, description, conditions {match, priority} and steps [{name, action_type, params}].'),
    textarea,
    err,
    h('div', { class: 'form-actions' }, save, format, cancel),
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
      const saved =
        mode === 'edit'
          ? await api.put(`/api/playbooks/${seg(playbookId)}`, parsed.value)
          : await api.post('/api/playbooks', parsed.value);
      restore();
      onSaved(saved);
    } catch (e) {
      restore();
      if (e.status === 422) textarea.setAttribute('aria-invalid', 'true');
      const problems = e.fieldErrors || [];
      showApiError(err, e);
      if (problems.length) err.querySelector('.error-text').textContent = `${e.message} (${problems.length} problem${problems.length === 1 ? '' : 's'})`;
      err.scrollIntoView({ block: 'nearest' });
    }
  });

  return h('div', { class: 'editor-layout' }, form, reference());
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
