// Simulate box: which playbook would an exception get, and why (nothing is written).
import { h, field, replace, uid } from '../dom.js';
import { api } from '../api.js';
import { errorSlot, showError, showApiError, clearError, setBusy } from './feedback.js';
import { reasoningView } from './reasoning.js';
import { parseJson, focusPosition } from './json-input.js';

function example(domain) {
  return JSON.stringify(
    {
      domain: domain || 'CapitalMarkets',
      exception_type: 'SETTLEMENT_FAIL',
      severity: 'high',
      sla_deadline: null,
      policy_tags: [],
      attributes: { trade_id: 'T-1001', counterparty_tier: 1 },
    },
    null,
    2,
  );
}

export function simulateBox({ domain, endpoint = '/api/playbooks/simulate', title = 'Simulate matching', before = null } = {}) {
  const titleId = uid('sim');
  const modeName = uid('mode');
  const jsonRadio = h('input', { type: 'radio', name: modeName, value: 'json', checked: true });
  const idRadio = h('input', { type: 'radio', name: modeName, value: 'id' });
  const json = field(
    'Exception (JSON)',
    h('textarea', { rows: '10', spellcheck: 'false', class: 'mono', 'data-testid': 'simulate-input', value: example(domain) }),
    { hint: 'domain, exception_type, severity, sla_deadline, policy_tags, attributes' },
  );
  const exId = field('Exception id', h('input', { autocomplete: 'off', 'data-testid': 'simulate-exception-id', placeholder: 'e.g. EX-1001' }));
  exId.wrap.hidden = true;
  const err = errorSlot();
  const result = h('div', { class: 'simulate-result-host', 'aria-live': 'polite' });
  const run = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'simulate-button' }, h('span', { class: 'btn-label' }, 'Simulate'));

  const syncMode = () => {
    const byId = idRadio.checked;
    json.wrap.hidden = byId;
    exId.wrap.hidden = !byId;
  };
  jsonRadio.addEventListener('change', syncMode);
  idRadio.addEventListener('change', syncMode);

  const form = h(
    'form',
    { class: 'simulate-form', novalidate: true },
    h(
      'fieldset',
      { class: 'segmented' },
      h('legend', {}, 'Simulate with'),
      h('label', {}, jsonRadio, ' An exception described as JSON'),
      h('label', {}, idRadio, ' An existing exception'),
    ),
    json.wrap,
    exId.wrap,
    err,
    h('div', { class: 'form-actions' }, run),
  );

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearError(err);
    let body;
    if (idRadio.checked) {
      const value = exId.input.value.trim();
      if (!value) {
        showError(err, 'Enter an exception id.');
        exId.input.focus();
        return;
      }
      body = { exception_id: value };
    } else {
      const parsed = parseJson(json.input.value);
      if (parsed.error) {
        showError(err, parsed.error);
        focusPosition(json.input, parsed.position);
        return;
      }
      if (!parsed.value || typeof parsed.value !== 'object' || Array.isArray(parsed.value)) {
        showError(err, 'The exception must be a JSON object.');
        return;
      }
      body = { exception: parsed.value };
    }
    const restore = setBusy(run, 'Simulating…');
    result.setAttribute('aria-busy', 'true');
    try {
      if (before) await before();
      const res = await api.post(endpoint, body);
      replace(result, reasoningView(res, { mode: 'simulate', open: true }));
    } catch (e) {
      replace(result);
      showApiError(err, e);
    } finally {
      restore();
      result.removeAttribute('aria-busy');
    }
  });

  return h(
    'section',
    { class: 'card simulate', 'aria-labelledby': titleId },
    h('div', { class: 'card-head' }, h('h2', { id: titleId }, title)),
    h('p', { class: 'muted' }, 'See which active playbook an exception would get and why, condition by condition. Nothing is written.'),
    h('div', { class: 'simulate-grid' }, form, result),
  );
}
