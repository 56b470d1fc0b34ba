// SLA state from the timeline: the last SlaWarning / SlaBreached for the current deadline.
import { h, icon } from '../dom.js';

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
