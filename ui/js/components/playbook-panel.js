// The Recommended Playbook panel: steps with their state, the current step's
// actions (complete / skip with notes), and Recalculate with its reasoning.
//
// Layout: the head (Recalculate), the feedback area and the recalculate result are
// stable nodes; only the body is re-rendered on refresh, and only when the data
// changed, so a refresh never wipes notes being typed or an error being read.
import { h, replace, icon, uid } from '../dom.js';
import { api, seg, newIdempotencyKey } from '../api.js';
import { formatDateTime, relativeTime } from '../format.js';
import { stepStatusBadge, actorChip, approvalMarker } from './badges.js';
import { errorSlot, showError, showApiError, clearError, setBusy, announce } from './feedback.js';
import { reasoningView } from './reasoning.js';
import { describeStep, describeOutcome, ACTION_LABELS } from './step-describe.js';
import { approvalBox } from './approval-box.js';

export function playbookPanel({ exceptionId, onChanged }) {
  const base = `/api/exceptions/${seg(exceptionId)}/playbook`;
  const titleId = uid('pb-title');
  const recalcBtn = h(
    'button',
    { type: 'button', class: 'btn', 'data-testid': 'recalculate-playbook' },
    icon('refresh'),
    h('span', { class: 'btn-label' }, 'Recalculate'),
  );
  const err = errorSlot();
  const status = h('p', { class: 'panel-status', role: 'status', 'aria-live': 'polite' });
  const recalcResult = h('div', { class: 'recalc-area', 'aria-live': 'polite' });
  const body = h('div', { class: 'panel-body' });
  const el = h(
    'section',
    { class: 'card panel', 'data-testid': 'playbook-panel', 'aria-labelledby': titleId },
    h('div', { class: 'card-head' }, h('h2', { id: titleId }, 'Recommended playbook'), recalcBtn),
    h('div', { class: 'panel-feedback' }, err, status),
    recalcResult,
    body,
  );

  let lastJson = '';
  let busy = false;
  let waitingForAgents = false;

  function actionButtons() {
    return [recalcBtn, ...body.querySelectorAll('.step-actions button')];
  }

  function setAllDisabled(disabled) {
    for (const b of actionButtons()) b.disabled = disabled;
  }

  async function runAction(kind, step, button, notesInput, stepErr) {
    if (busy) return;
    const notes = notesInput.value.trim();
    clearError(err);
    clearError(stepErr);
    notesInput.removeAttribute('aria-invalid');
    if (kind === 'skip' && !notes) {
      // Checked here so the user learns it before a round trip; the server checks too.
      showError(stepErr, 'Notes are required to skip a step: say why it is being skipped.');
      notesInput.setAttribute('aria-invalid', 'true');
      notesInput.focus();
      return;
    }
    busy = true;
    setAllDisabled(true);
    const restore = setBusy(button, kind === 'skip' ? 'Skipping…' : 'Completing…');
    status.textContent = '';
    try {
      const res = await api.post(`${base}/steps/${step.step_order}/${kind}`, notes ? { notes } : {}, {
        // A fresh key per click: a network retry of this click is deduplicated, a new click is not.
        headers: { 'Idempotency-Key': newIdempotencyKey() },
      });
      const verb = kind === 'skip' ? 'skipped' : 'completed';
      const outcome = kind === 'complete' && res ? describeOutcome(res.action) : '';
      status.textContent = `Step ${step.step_order} “${step.name}” ${verb}.${outcome ? ` ${outcome}.` : ''}`;
      replace(recalcResult); // an older recalculation result no longer describes this state
      announce(status.textContent);
      restore();
      busy = false;
      if (res && Array.isArray(res.steps)) {
        const { action: _action, ...statusOnly } = res;
        update(statusOnly);
        // The clicked button is gone with the re-render: keep keyboard users on the next step.
        if (!el.contains(document.activeElement)) body.querySelector('[data-testid="step-notes"]')?.focus();
      }
      await onChanged();
    } catch (e) {
      restore();
      busy = false;
      // Next to the step the user acted on; if the refresh replaces that step, at the panel's top.
      showApiError(stepErr, e);
      // A conflict means this page is stale: show the message and the real state.
      if (e.status === 409) {
        await onChanged();
        if (!stepErr.isConnected) showApiError(err, e);
      }
    } finally {
      busy = false;
      setAllDisabled(false);
    }
  }

  recalcBtn.addEventListener('click', async () => {
    if (busy) return;
    busy = true;
    clearError(err);
    status.textContent = '';
    setAllDisabled(true);
    const restore = setBusy(recalcBtn, 'Recalculating…');
    recalcResult.setAttribute('aria-busy', 'true');
    replace(recalcResult, h('p', { class: 'loading' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Re-running matching…'));
    try {
      const res = await api.post(`${base}/recalculate`, {});
      const dismiss = h('button', { type: 'button', class: 'btn btn-ghost btn-sm dismiss', 'aria-label': 'Dismiss the recalculation result' }, '×');
      dismiss.addEventListener('click', () => {
        replace(recalcResult);
        recalcBtn.focus();
      });
      replace(recalcResult, dismiss, reasoningView(res, { mode: 'recalculate' }));
      announce(res.changed ? 'Playbook changed' : 'No change to the playbook');
      restore();
      busy = false;
      await onChanged();
    } catch (e) {
      replace(recalcResult);
      restore();
      showApiError(err, e);
    } finally {
      busy = false;
      recalcResult.removeAttribute('aria-busy');
      setAllDisabled(false);
    }
  });

  function stepMeta(step) {
    if (step.status === 'pending' || !step.status) return null;
    const verb = step.status === 'skipped' ? 'Skipped' : 'Completed';
    return h(
      'div',
      { class: 'step-meta' },
      h('span', {}, `${verb} by`),
      actorChip(step.actor_type, step.actor_id),
      step.at ? h('time', { datetime: step.at, title: formatDateTime(step.at) }, relativeTime(step.at)) : null,
    );
  }

  function currentActions(step) {
    const notesId = uid('notes');
    const notes = h('textarea', {
      id: notesId,
      class: 'notes-input',
      rows: '2',
      maxlength: '4000',
      'data-testid': 'step-notes',
      placeholder: step.skippable === false ? 'Optional notes' : 'Optional when completing, required to skip',
    });
    const n = step.step_order;
    const complete = h(
      'button',
      { type: 'button', class: 'btn btn-primary', 'data-testid': `complete-step-${n}` },
      icon('check'),
      h('span', { class: 'btn-label' }, 'Mark completed'),
    );
    const stepErr = errorSlot('step-error');
    complete.addEventListener('click', () => runAction('complete', step, complete, notes, stepErr));
    // `skippable` is only sometimes present on the status answer; absent means allowed.
    const canSkip = step.skippable !== false;
    const skip = canSkip
      ? h('button', { type: 'button', class: 'btn', 'data-testid': `skip-step-${n}` }, icon('skip'), h('span', { class: 'btn-label' }, 'Skip'))
      : null;
    if (skip) skip.addEventListener('click', () => runAction('skip', step, skip, notes, stepErr));
    return h(
      'div',
      { class: 'step-actions' },
      h('label', { for: notesId }, `Notes for step ${n}`),
      notes,
      h(
        'div',
        { class: 'step-buttons' },
        complete,
        skip,
        canSkip ? null : h('span', { class: 'muted small' }, 'This step cannot be skipped.'),
      ),
      stepErr,
      step.requires_approval ? h('p', { class: 'approval-hint' }, icon('flag'), 'A person must complete this step; agents cannot.') : null,
    );
  }

  function stepItem(step, current) {
    const isCurrent = current === step.step_order;
    const st = step.status || 'pending';
    const marker = st === 'completed' ? icon('check', 'icon step-icon') : st === 'skipped' ? icon('skip', 'icon step-icon') : String(step.step_order);
    return h(
      'li',
      {
        class: `step step-is-${st}${isCurrent ? ' is-current' : ''}`,
        'data-testid': `playbook-step-${step.step_order}`,
        'data-status': st,
        'data-current': String(isCurrent),
        'aria-current': isCurrent ? 'step' : null,
      },
      h('div', { class: 'step-marker', 'aria-hidden': 'true' }, marker),
      h(
        'div',
        { class: 'step-main' },
        h(
          'div',
          { class: 'step-top' },
          h('span', { class: 'step-name' }, h('span', { class: 'sr-only' }, `Step ${step.step_order}: `), step.name),
          isCurrent ? h('span', { class: 'badge current' }, 'Current step') : null,
          stepStatusBadge(st),
        ),
        h(
          'div',
          { class: 'step-sub' },
          h('span', { class: 'chip action', title: step.action_type }, ACTION_LABELS[step.action_type] || step.action_type),
          step.requires_approval ? approvalMarker() : null,
          h('span', { class: 'step-desc' }, describeStep(step)),
        ),
        stepMeta(step),
        step.notes ? h('blockquote', { class: 'step-notes' }, step.notes) : null,
        step.approval ? approvalBox(step, { base, onDone: () => onChanged() }) : isCurrent ? currentActions(step) : null,
      ),
    );
  }

  function progress(data) {
    const steps = data.steps || [];
    const done = steps.filter((s) => s.status === 'completed').length;
    const skipped = steps.filter((s) => s.status === 'skipped').length;
    const bar = h('div', { class: 'progress-bar' });
    bar.style.width = `${steps.length ? Math.round(((done + skipped) / steps.length) * 100) : 0}%`;
    return h(
      'div',
      { class: 'progress' },
      h(
        'p',
        { class: 'progress-text' },
        data.completed ? `All ${steps.length} steps done` : `Step ${data.current_step ?? '—'} of ${steps.length}`,
        h('span', { class: 'muted' }, ` · ${done} completed, ${skipped} skipped`),
      ),
      h('div', { class: 'progress-track', role: 'presentation' }, bar),
    );
  }

  function emptyState() {
    return h(
      'div',
      { class: 'empty panel-empty', 'data-testid': 'playbook-empty' },
      icon('playbook', 'icon icon-lg'),
      h('p', { class: 'strong' }, 'No playbook assigned yet'),
      h(
        'p',
        { class: 'muted' },
        waitingForAgents
          ? 'Agents are triaging this exception and usually assign a playbook within seconds. Watching for it…'
          : 'No active playbook matched when this exception was last evaluated. Use Recalculate to match again.',
      ),
    );
  }

  /** Renders the status answer (GET .../playbook or a step action's answer). */
  function update(data, { force = false } = {}) {
    const json = JSON.stringify([data, waitingForAgents]);
    if (!force && json === lastJson) return;
    lastJson = json;
    if (!data || !data.playbook) {
      replace(body, emptyState());
      return;
    }
    const pb = data.playbook;
    replace(
      body,
      h(
        'div',
        { class: 'pb-ident' },
        h('a', { class: 'pb-title', href: `#/playbooks/${seg(pb.playbook_id)}?version=${pb.version}`, 'data-testid': 'playbook-name' }, pb.name),
        h('span', { class: 'version', 'data-testid': 'playbook-version', title: 'Playbook version' }, String(pb.version)),
      ),
      pb.description ? h('p', { class: 'pb-desc' }, pb.description) : null,
      data.completed
        ? h('div', { class: 'banner banner-success', 'data-testid': 'playbook-completed', role: 'status' }, icon('check'), 'Playbook completed: every step is done.')
        : null,
      progress(data),
      h('ol', { class: 'steps' }, (data.steps || []).map((s) => stepItem(s, data.completed ? null : data.current_step))),
    );
    if (busy) setAllDisabled(true);
  }

  function setWaiting(value) {
    waitingForAgents = value;
  }

  function showLoadError(e) {
    showApiError(err, e);
  }

  return { el, update, setWaiting, showLoadError };
}
