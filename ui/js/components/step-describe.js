// One-line, human description of what a step's action will do, from its params.
import { formatValue, formatOwner } from '../format.js';

export const ACTION_LABELS = {
  notify: 'Notify',
  assign_owner: 'Assign owner',
  set_status: 'Set status',
  add_comment: 'Add comment',
  call_tool: 'Call tool',
};

export function describeStep(step) {
  // The status answer's preview has this exception's values filled in: prefer it, so nobody
  // reads "{exception.attributes.regime}". Without one, placeholders are shown as "…".
  const p = (step && step.preview && step.preview.params) || stripPlaceholders((step && step.params) || {});
  switch (step && step.action_type) {
    case 'notify': {
      const to = [p.recipient, p.group && `group ${p.group}`].filter(Boolean).join(', ');
      return `${p.channel || 'notify'} → ${to || '—'}${p.subject ? `: “${p.subject}”` : ''}`;
    }
    case 'assign_owner':
      return p.queue ? `Queue ${p.queue}` : `User ${p.user_id ?? '—'}`;
    case 'set_status':
      return `Status → ${String(p.status ?? '—').replace(/_/g, ' ')}`;
    case 'add_comment':
      return `“${p.text ?? ''}”`;
    case 'call_tool': {
      const keys = p.payload && typeof p.payload === 'object' ? Object.keys(p.payload) : [];
      return `${p.tool_id ?? 'tool'}(${keys.join(', ')}) · recorded as dry run`;
    }
    default:
      return Object.keys(p).length ? formatValue(p) : '';
  }
}

/** A step action's answer {action_type, outcome, detail} as one line: "Owner assigned: owner queue X". */
export function describeOutcome(action) {
  if (!action || typeof action !== 'object') return action ? formatValue(action) : '';
  const outcome = String(action.outcome || action.action_type || 'done').replace(/_/g, ' ');
  const detail =
    action.detail && typeof action.detail === 'object'
      ? Object.entries(action.detail).filter(([, v]) => v !== null && v !== '' && !(Array.isArray(v) && !v.length))
      : [];
  const text = detail.map(([k, v]) => `${k.replace(/_/g, ' ')} ${formatOwnerish(v)}`).join(', ');
  return `${outcome.charAt(0).toUpperCase()}${outcome.slice(1)}${text ? `: ${text}` : ''}`;
}

function formatOwnerish(value) {
  // Owners come as {type, id}; everything else as compact JSON or text.
  if (value && typeof value === 'object' && 'type' in value && 'id' in value) return formatOwner(value);
  return formatValue(value);
}

function stripPlaceholders(value) {
  if (typeof value === 'string') return value.replace(/\{[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z0-9_.:-]+\}/g, '…');
  if (Array.isArray(value)) return value.map(stripPlaceholders);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, stripPlaceholders(v)]));
  return value;
}
