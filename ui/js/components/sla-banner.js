// SLA state from the timeline: the last SlaWarning / SlaBreached for the current deadline.
import { h, icon } from '../dom.js';
import { api } from '../api.js';

export function slaStateFromEvents(events, deadline) {
  let state = null;
  for (const e of events || []) {
    if (e.event_type !== 'SlaWarning' && e.event_type !== 'SlaBreached') continue;
    if (deadline && e.payload && e.payload.deadline && Date.parse(e.payload.deadline) !== Date.parse(deadline)) continue;
    if (e.event_type === 'SlaBreached') state = { kind: 'breached', event: e };
    else if (!state || state.kind !== 'breached') state = { kind: 'warning', event: e };
  }
  return state;
}

/** The banner (breach) or chip (warning) for the detail page; null when the clock said nothing. */
export function slaBanner(state) {
  if (!state) return null;
  const p = state.event.payload || {};
  if (state.kind === 'breached') {
    return h('div', { class: 'banner banner-danger', role: 'alert', 'data-testid': 'sla-banner', 'data-sla-state': 'breached' }, icon('flag'), `SLA breached (deadline ${p.deadline || '—'}, severity ${p.severity || '—'}).`);
  }
  const minutes = (p.threshold || '').replace('warn:', '');
  return h('div', { class: 'banner banner-warning', role: 'status', 'data-testid': 'sla-banner', 'data-sla-state': 'warning' }, icon('flag'), `SLA warning: ${minutes} minutes or less left.`);
}

// The list page has no timeline per row: it shows the same state from the deadline and the tenant
// policy's clock (a mark rings exactly when the deadline minus its minutes passes).
let clock = null;
let loadingClock = null;
const FINAL = new Set(['resolved', 'closed']);

export function slaClockState(deadline, status, now = Date.now()) {
  if (!clock || !deadline || FINAL.has(status)) return null;
  const left = Date.parse(deadline) - now;
  if (Number.isNaN(left)) return null;
  if (left <= 0) return 'breached';
  const warnAt = Math.max(0, ...(clock.warn_minutes || [])) * 60_000;
  return left <= warnAt ? 'warning' : null;
}

/** Attributes of a list row's SLA cell: the deadline and status to re-mark, and the state now. */
export function slaClockAttrs(ex) {
  return {
    'data-testid': 'sla-state',
    'data-sla-deadline': ex.sla_deadline || null,
    'data-exception-status': ex.status,
    'data-sla-state': slaClockState(ex.sla_deadline, ex.status),
  };
}

export function markSlaCells(root) {
  for (const el of root.querySelectorAll('[data-sla-deadline]')) {
    const state = slaClockState(el.dataset.slaDeadline, el.dataset.exceptionStatus);
    if (state) el.dataset.slaState = state;
    else delete el.dataset.slaState;
  }
}

/** Loads the tenant's sla_clock once per page load, then marks the cells already on screen. */
export function primeSlaClock() {
  if (!loadingClock) {
    loadingClock = api
      .get('/api/packs/policy')
      .then((policy) => {
        clock = policy.sla_clock || null;
        markSlaCells(document);
      })
      .catch(() => {
        loadingClock = null; // try again on the next render
      });
  }
  return loadingClock;
}
