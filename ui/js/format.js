// Formatting helpers: dates, durations, SLA countdowns and labels.

const dateTimeFmt = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
});
// 24-hour clock in dense tables: shorter, and unambiguous across shifts.
const shortFmt = new Intl.DateTimeFormat(undefined, {
  month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
});

function parse(iso) {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** "25 Nov 2026, 14:03:12" in the viewer's locale and zone; '—' for missing values. */
export function formatDateTime(iso) {
  const d = parse(iso);
  return d ? dateTimeFmt.format(d) : '—';
}

export function formatShort(iso) {
  const d = parse(iso);
  return d ? shortFmt.format(d) : '—';
}

/** A compact duration: "3d 4h", "2h 13m", "5m", "40s". */
export function formatDuration(ms) {
  const s = Math.max(0, Math.floor(Math.abs(ms) / 1000));
  const d = Math.floor(s / 86400);
  const hh = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return hh ? `${d}d ${hh}h` : `${d}d`;
  if (hh > 0) return `${hh}h ${m}m`;
  if (m > 0) return `${m}m`;
  return `${s}s`;
}

/** "5m ago" / "in 2h 13m". */
export function relativeTime(iso, now = Date.now()) {
  const d = parse(iso);
  if (!d) return '';
  const diff = d.getTime() - now;
  if (Math.abs(diff) < 30_000) return 'just now';
  return diff < 0 ? `${formatDuration(diff)} ago` : `in ${formatDuration(diff)}`;
}

/**
 * SLA state of a deadline: {text, tone} with tone ok|warn|danger|none.
 * Warn below two hours: that is where the SLA-urgent playbooks usually start.
 */
export function slaState(deadline, now = Date.now()) {
  const d = parse(deadline);
  if (!d) return { text: 'No SLA', tone: 'none' };
  const diff = d.getTime() - now;
  if (diff < 0) return { text: `overdue by ${formatDuration(diff)}`, tone: 'danger' };
  return { text: `${formatDuration(diff)} left`, tone: diff < 2 * 3600_000 ? 'warn' : 'ok' };
}

/** "in_progress" -> "In progress". */
export function humanize(value) {
  if (value === null || value === undefined || value === '') return '—';
  const s = String(value).replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** "PlaybookStepCompleted" -> "Playbook step completed". */
export function splitCamel(value) {
  const s = String(value || '').replace(/([a-z0-9])([A-Z])/g, '$1 $2');
  return s.charAt(0) + s.slice(1).toLowerCase();
}

/** Short, readable rendering of any JSON value for tables (expected/actual etc.). */
export function formatValue(value) {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null)) {
    return value.length ? value.map((v) => formatValue(v)).join(', ') : '[]';
  }
  return JSON.stringify(value);
}

/** An owner object {type, id} -> "queue: SettlementsOps" / "alice". */
export function formatOwner(owner) {
  if (!owner) return 'Unassigned';
  if (typeof owner === 'string') return owner;
  return owner.type === 'queue' ? `${owner.id} (queue)` : String(owner.id ?? '—');
}

/** datetime-local value (local wall time) -> ISO UTC with Z; '' -> null. */
export function localInputToIso(value) {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Where an effective severity came from, in words ("domain.severity_rules[0]" -> "domain rule 1"). */
export function severitySource(source) {
  if (!source) return '';
  const fixed = {
    human: 'set by a person',
    'policy.severity_overrides': 'tenant override',
    given: 'as raised',
    'domain.exception_types': 'type default',
    default: 'default',
  };
  if (fixed[source]) return fixed[source];
  const rule = /^domain\.severity_rules\[(\d+)\]$/.exec(source);
  if (rule) return `domain rule ${Number(rule[1]) + 1}`;
  return String(source).replace(/[._]/g, ' ');
}
