// "New exception" form -> POST /api/exceptions. A 422's details.errors are shown
// next to the field their path names, and listed in the error-message box.
import { h, field, setFieldError } from '../dom.js';
import { api } from '../api.js';
import { localInputToIso } from '../format.js';
import { SEVERITIES } from './badges.js';
import { errorSlot, showError, showApiError, clearError, setBusy, announce } from './feedback.js';

/** "attributes.amount" / "policy_tags[1]" / "body.domain" -> "attributes" / "policy_tags" / "domain". */
export function topField(path) {
  const parts = String(path || '').replace(/^(body|\$)\.?/, '').split(/[.[]/);
  return parts[0] || '';
}

export function exceptionForm({ onCreated, onCancel }) {
  const f = {
    domain: field('Domain', h('input', { name: 'domain', required: true, autocomplete: 'off', placeholder: 'CapitalMarkets' })),
    exception_type: field('Exception type', h('input', { name: 'exception_type', required: true, autocomplete: 'off', placeholder: 'SETTLEMENT_FAIL' })),
    severity: field(
      'Severity',
      h('select', { name: 'severity' }, h('option', { value: '' }, 'Let triage decide'), SEVERITIES.map((s) => h('option', { value: s }, s))),
    ),
    source_system: field('Source system', h('input', { name: 'source_system', autocomplete: 'off', placeholder: 'Murex' })),
    summary: field('Summary', h('input', { name: 'summary', maxlength: '500', autocomplete: 'off', placeholder: 'One line operators will read in the list' }), { className: 'span-2' }),
    sla_deadline: field('SLA deadline', h('input', { name: 'sla_deadline', type: 'datetime-local' }), { hint: 'Your local time; sent as UTC.' }),
    policy_tags: field('Policy tags', h('input', { name: 'policy_tags', autocomplete: 'off', placeholder: 'regulatory, tier1_counterparty' }), { hint: 'Comma-separated.' }),
    attributes: field(
      'Attributes (JSON object)',
      h('textarea', { name: 'attributes', rows: '6', spellcheck: 'false', class: 'mono', value: '{\n  \n}' }),
      { className: 'span-2', hint: 'Normalised context, e.g. {"trade_id": "T-1", "amount": 1200}.' },
    ),
  };
  const err = errorSlot();
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, h('span', { class: 'btn-label' }, 'Create exception'));
  const cancel = h('button', { type: 'button', class: 'btn btn-ghost', onclick: onCancel }, 'Cancel');

  const form = h(
    'form',
    { class: 'card form-card', novalidate: true, 'aria-labelledby': 'new-exc-title' },
    h('h2', { id: 'new-exc-title' }, 'New exception'),
    h('div', { class: 'form-grid' }, Object.values(f).map((x) => x.wrap)),
    err,
    h('div', { class: 'form-actions' }, submit, cancel),
  );

  function resetErrors() {
    for (const x of Object.values(f)) setFieldError(x, '');
    clearError(err);
  }

  /** Builds the body; returns {body} or {problems} for client-side checks. */
  function collect() {
    const problems = [];
    const body = { domain: f.domain.input.value.trim(), exception_type: f.exception_type.input.value.trim() };
    if (!body.domain) problems.push({ path: 'domain', message: 'Domain is required.' });
    if (!body.exception_type) problems.push({ path: 'exception_type', message: 'Exception type is required.' });
    const optional = {
      severity: f.severity.input.value,
      source_system: f.source_system.input.value.trim(),
      summary: f.summary.input.value.trim(),
    };
    for (const [k, v] of Object.entries(optional)) if (v) body[k] = v;
    if (f.sla_deadline.input.value) {
      const iso = localInputToIso(f.sla_deadline.input.value);
      if (iso) body.sla_deadline = iso;
      else problems.push({ path: 'sla_deadline', message: 'Not a valid date and time.' });
    }
    const tags = f.policy_tags.input.value.split(',').map((t) => t.trim()).filter(Boolean);
    if (tags.length) body.policy_tags = tags;
    const raw = f.attributes.input.value.trim();
    if (raw) {
      try {
        const attrs = JSON.parse(raw);
        if (!attrs || typeof attrs !== 'object' || Array.isArray(attrs)) {
          problems.push({ path: 'attributes', message: 'Attributes must be a JSON object, e.g. {"amount": 12}.' });
        } else {
          body.attributes = attrs;
        }
      } catch (e) {
        problems.push({ path: 'attributes', message: `Invalid JSON: ${e.message}` });
      }
    }
    return { body, problems };
  }

  function showProblems(message, problems) {
    for (const p of problems) {
      const target = f[topField(p.path)];
      if (target && !target.error.textContent) setFieldError(target, p.message);
    }
    showError(err, message, { problems });
    const first = problems.map((p) => f[topField(p.path)]).find(Boolean);
    (first ? first.input : err).focus?.();
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    resetErrors();
    const { body, problems } = collect();
    if (problems.length) {
      showProblems('Please fix the highlighted fields.', problems);
      return;
    }
    const restore = setBusy(submit, 'Creating…');
    try {
      const created = await api.post('/api/exceptions', body);
      announce(`Exception ${created.exception_id} created`);
      onCreated(created);
    } catch (e) {
      restore();
      if (e.status === 422 && e.fieldErrors.length) showProblems(e.message, e.fieldErrors);
      else showApiError(err, e);
    }
  });
  return form;
}
