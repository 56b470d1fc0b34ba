// One timeline event: time, type, actor and a readable rendering of its payload.
// Payload shapes vary by event type, so each renderer reads keys defensively and
// marks what it used; the remaining short fields are listed, and the raw JSON is
// always one click away.
import { h, icon } from '../dom.js';
import { formatDateTime, formatValue, relativeTime, formatOwner, humanize, formatDuration, severitySource, splitCamel } from '../format.js';
import { actorChip } from './badges.js';
import { describeOutcome } from './step-describe.js';

export const PLAYBOOK_EVENTS = new Set([
  'PlaybookStarted',
  'PlaybookStepCompleted',
  'PlaybookStepSkipped',
  'PlaybookCompleted',
  'PlaybookRecalculated',
]);

function reader(payload) {
  const used = new Set();
  const get = (...keys) => {
    for (const k of keys) {
      const v = payload[k];
      if (v !== undefined && v !== null && v !== '') {
        used.add(k);
        return v;
      }
      if (k in payload) used.add(k);
    }
    return undefined;
  };
  // Marks keys as shown elsewhere (header, other renderers) without reading them.
  get.mark = (...keys) => keys.forEach((k) => used.add(k));
  return { get, used };
}

function pbLabel(get) {
  const id = get('playbook_id');
  const name = get('playbook_name', 'name') || names.get(id);
  const version = get('playbook_version', 'version');
  const label = name || id;
  if (!label) return '';
  return version !== undefined ? `${label} v${version}` : String(label);
}

// Playbook names by id, supplied by the page (events often carry only ids).
let names = new Map();

export function setPlaybookNames(map) {
  names = map || new Map();
}

function refLabel(value) {
  // Playbook references come as ids or {playbook_id, name?, version|playbook_version}; null = none.
  if (value === null || value === undefined) return 'none';
  if (typeof value === 'object') {
    const label = value.name || names.get(value.playbook_id) || value.playbook_id || JSON.stringify(value);
    const version = value.version ?? value.playbook_version;
    return version !== undefined && version !== null ? `${label} v${version}` : label;
  }
  return names.get(value) || String(value);
}

function summaryOf(reasoning) {
  if (!reasoning) return undefined;
  if (typeof reasoning === 'string') return reasoning;
  return reasoning.summary;
}

/** Per-type headline and optional quoted body text. */
const RENDERERS = {
  ExceptionCreated: (g) => {
    g.mark('domain', 'exception_type'); // the page header shows these already
    return { headline: g('summary') || 'Exception raised' };
  },
  ExceptionUpdated: (g) => {
    const changes = g('changes', 'changed', 'fields');
    const keys = Array.isArray(changes) ? changes : changes && typeof changes === 'object' ? Object.keys(changes) : [];
    return { headline: keys.length ? `Updated ${keys.map((k) => humanize(k).toLowerCase()).join(', ')}` : 'Exception updated' };
  },
  CommentAdded: (g) => ({ headline: 'Comment', quote: g('text', 'comment', 'message') }),
  TriageCompleted: (g) => {
    const sev = g('severity', 'effective_severity');
    const source = g('severity_source');
    const tags = g('tags', 'effective_tags', 'policy_tags');
    const sug = g('suggested_playbook', 'suggestion', 'playbook');
    const parts = [sev && `severity ${sev}${source ? ` (${severitySource(source)})` : ''}`, Array.isArray(tags) && tags.length && `tags ${tags.join(', ')}`, sug && `suggests ${refLabel(sug)}`];
    return { headline: `Triage: ${parts.filter(Boolean).join(' · ') || 'done'}`, quote: summaryOf(g('reasoning_summary', 'reasoning', 'summary')) };
  },
  PolicyEvaluated: (g) => {
    const decision = g('decision');
    const pb = g('playbook', 'playbook_id', 'assigned_playbook');
    const violations = g('violations');
    const v = Array.isArray(violations) && violations.length ? ` · ${violations.length} violation(s): ${violations.map(formatValue).join('; ')}` : '';
    return { headline: `Policy: ${decision ? humanize(decision).toLowerCase() : 'evaluated'}${pb ? ` · ${refLabel(pb)}` : ''}${v}`, quote: summaryOf(g('reasoning_summary')) || g('reason', 'message') };
  },
  PlaybookStarted: (g) => {
    const count = g('step_count');
    return { headline: `Started ${pbLabel(g) || 'playbook'}${count ? ` (${count} steps)` : ''}`, quote: g('reason') };
  },
  PlaybookStepCompleted: (g) => {
    const result = g('result');
    g.mark('action_type', 'playbook_id', 'playbook_version');
    const extra = result ? describeOutcome(result) : null;
    return { headline: `Step ${g('step_order') ?? '?'} completed: ${g('step_name') || ''}`.trim(), quote: g('notes'), extra };
  },
  PlaybookStepSkipped: (g) => {
    g.mark('action_type', 'playbook_id', 'playbook_version');
    return { headline: `Step ${g('step_order') ?? '?'} skipped: ${g('step_name') || ''}`.trim(), quote: g('notes') };
  },
  PlaybookCompleted: (g) => {
    const count = g('step_count');
    return { headline: `Completed ${pbLabel(g) || 'playbook'}${count ? ` (${count} steps)` : ''}` };
  },
  PlaybookRecalculated: (g) => ({
    headline: `Re-matched: ${refLabel(g('from', 'from_playbook', 'from_playbook_id'))} → ${refLabel(g('to', 'to_playbook', 'to_playbook_id'))}`,
    quote: summaryOf(g('reasoning_summary', 'summary', 'reasoning')),
  }),
  NotificationSent: (g) => {
    const to = [g('recipient'), g('group')].filter(Boolean).join(', ');
    return { headline: `${humanize(g('channel') || 'notification')} to ${to || '—'}${g('subject') ? `: ${g('subject')}` : ''}`, quote: g('message', 'text') };
  },
  OwnerAssigned: (g, payload) => {
    const owner = g('owner', 'to');
    const label = owner && typeof owner === 'object' ? formatOwner(owner) : owner || g('queue', 'user_id');
    const previous = g('previous');
    const was = previous && typeof previous === 'object' ? ` (was ${formatOwner(previous)})` : '';
    const reason = g('reason');
    if (payload.owner === null) return { headline: `Unassigned${was}`, extra: reason ? `Reason: ${reason}` : null };
    return { headline: `Owner set to ${label ?? '—'}${was}`, extra: reason ? `Reason: ${reason}` : null };
  },
  StatusChanged: (g) => ({
    headline: `Status ${humanize(g('from', 'from_status', 'old_status') || '?').toLowerCase()} → ${humanize(g('to', 'to_status', 'status', 'new_status') || '?').toLowerCase()}`,
    extra: g('reason') ? `Reason: ${g('reason')}` : null,
  }),
  ToolCallRecorded: (g) => {
    const mode = g('mode');
    return { headline: `Tool ${g('tool_id') || '?'}${mode ? ` (${String(mode).replace(/_/g, ' ')})` : ''}`, code: g('payload') };
  },
  ResolutionSuggested: (g) => {
    g.mark('playbook_id', 'playbook_version');
    const next = g('next_step');
    if (next && typeof next === 'object') {
      const blockers = Array.isArray(next.blockers) && next.blockers.length ? `Blocked: ${next.blockers.join('; ')}` : null;
      return {
        headline: `Next: step ${next.step_order ?? '?'} ${next.name ?? ''}${next.needs_human ? ' · needs a person' : ''}`,
        quote: next.suggestion,
        extra: blockers,
      };
    }
    return { headline: 'Suggests a next step', quote: g('suggestion', 'message', 'text') };
  },
  FeedbackCaptured: (g) => {
    const secs = g('time_to_complete_seconds', 'duration_seconds', 'seconds');
    const parts = [
      g('steps_completed') !== undefined && `${g('steps_completed')} completed`,
      g('steps_skipped') !== undefined && `${g('steps_skipped')} skipped`,
      typeof secs === 'number' && `took ${formatDuration(secs * 1000)}`,
    ];
    const actors = g('actors');
    return {
      headline: `Feedback: ${parts.filter(Boolean).join(', ') || 'captured'}`,
      extra: Array.isArray(actors) && actors.length ? `Actors: ${actors.join(', ')}` : null,
    };
  },
};

function fallback(get, payload) {
  return { headline: get('summary', 'message', 'text') || `${Object.keys(payload).length} field(s)` };
}

// Bookkeeping keys that the event's own actor/raw JSON already show.
const NOISE = new Set(['actor_type', 'actor_id', 'trigger_event_id', 'trigger_event_type', 'event_id']);

/** Short scalar fields the headline did not use, as a definition list. */
function remainingFields(payload, used) {
  const rows = [];
  for (const [k, v] of Object.entries(payload)) {
    if (used.has(k) || NOISE.has(k) || v === null || v === undefined || v === '') continue;
    if (Array.isArray(v) && !v.length) continue;
    const text = typeof v === 'object' ? (Array.isArray(v) && v.every((x) => typeof x !== 'object') ? formatValue(v) : null) : formatValue(v);
    if (text === null || text.length > 160) continue;
    rows.push(h('div', { class: 'kv' }, h('dt', {}, humanize(k)), h('dd', {}, text)));
    if (rows.length >= 6) break;
  }
  return rows.length ? h('dl', { class: 'kv-list' }, rows) : null;
}

const LONG_QUOTE = 160;

/** A quote shown as is when short and new; long or repeated reasoning waits behind "details". */
function quoteBlock(text, { repeated = false, collapsed = false } = {}) {
  const quote = h('blockquote', { class: 'event-quote' }, text);
  if (!repeated && !collapsed && text.length <= LONG_QUOTE) return quote;
  const label = repeated ? 'Same reasoning as above (details)' : `${text.slice(0, 90).trim()}… (details)`;
  return h('details', { class: 'event-why' }, h('summary', {}, label), quote);
}

/**
 * One event. ``context.seen`` holds the quotes already shown above (chronologically), so a
 * repeated explanation collapses; ``context.superseded`` marks an agent suggestion a later one
 * replaced (shown small, its text collapsed).
 */
/** The one-line headline of an event, as the timeline shows it. */
export function eventHeadline(ev) {
  const payload = ev.payload && typeof ev.payload === 'object' ? ev.payload : {};
  const { get } = reader(payload);
  const render = RENDERERS[ev.event_type];
  return (render ? render(get, payload) : fallback(get, payload)).headline;
}

export function eventItem(ev, context = {}) {
  const seen = context.seen || new Set();
  const superseded = Boolean(context.superseded && context.superseded.has(ev.event_id));
  const payload = ev.payload && typeof ev.payload === 'object' ? ev.payload : {};
  const { get, used } = reader(payload);
  const render = RENDERERS[ev.event_type];
  const d = render ? render(get, payload) : fallback(get, payload);
  const isPlaybook = PLAYBOOK_EVENTS.has(ev.event_type);
  const actor = ['human', 'agent', 'system'].includes(ev.actor_type) ? ev.actor_type : 'system';
  const quote = d.quote ? String(d.quote) : '';
  const repeated = Boolean(quote) && seen.has(quote);
  if (quote) seen.add(quote);
  return h(
    'li',
    {
      class: `event actor-kind-${actor}${isPlaybook ? ' is-playbook' : ''}${superseded ? ' is-superseded' : ''}`,
      'data-testid': 'timeline-event',
      'data-event-type': ev.event_type,
      'data-actor-type': ev.actor_type,
      'data-seq': ev.seq,
    },
    h('div', { class: 'event-rail', 'aria-hidden': 'true' }, h('span', { class: 'event-dot' }, icon(isPlaybook ? 'playbook' : actor))),
    h(
      'div',
      { class: 'event-body' },
      h(
        'div',
        { class: 'event-head' },
        isPlaybook ? h('span', { class: 'badge playbook-badge' }, icon('playbook'), 'Playbook') : null,
        h('span', { class: 'event-type', title: ev.event_type }, splitCamel(ev.event_type)),
        actorChip(ev.actor_type, ev.actor_id),
        // One time format everywhere: when, relative; the absolute time on hover.
        h('time', { class: 'event-time', datetime: ev.created_at, title: `${formatDateTime(ev.created_at)} · #${ev.seq}` }, relativeTime(ev.created_at) || formatDateTime(ev.created_at)),
      ),
      h('p', { class: 'event-headline' }, superseded ? 'Earlier suggestion: ' : null, d.headline),
      quote ? quoteBlock(quote, { repeated, collapsed: superseded }) : null,
      d.extra ? h('p', { class: 'event-extra' }, d.extra) : null,
      d.code ? h('pre', { class: 'event-code' }, JSON.stringify(d.code, null, 2)) : null,
      remainingFields(payload, used),
      Object.keys(payload).length
        ? h('details', { class: 'raw' }, h('summary', {}, 'Raw payload'), h('pre', {}, JSON.stringify(payload, null, 2)))
        : null,
      h('span', { class: 'sr-only' }, formatDateTime(ev.created_at)),
    ),
  );
}
