// #/exceptions/{id}: header with a live SLA countdown, the Recommended Playbook
// panel and the timeline. One refresh() reloads all three after any action.
import { h, replace, icon } from '../dom.js';
import { api, seg, fetchAll } from '../api.js';
import { formatDateTime, formatOwner, relativeTime, slaState, formatValue } from '../format.js';
import { severityBadge, statusBadge } from '../components/badges.js';
import { errorSlot, showApiError, loading } from '../components/feedback.js';
import { playbookPanel } from '../components/playbook-panel.js';
import { timeline } from '../components/timeline.js';
import { setPlaybookNames } from '../components/event-view.js';
import { playbookIndex } from '../playbook-cache.js';
import { slaBanner, slaStateFromEvents } from '../components/sla-banner.js';

// Agents triage and assign asynchronously (about a second locally), so a fresh
// exception is watched for a while instead of asking people to reload.
const POLL_MS = 2000;
const POLL_FOR_MS = 20_000;
// After an action, agents react (ResolutionSuggested, FeedbackCaptured): look again shortly.
const FOLLOW_UP_MS = [1500, 4000];
// Operators keep this page open: agents and colleagues keep writing to the timeline.
const LIVE_REFRESH_MS = 15_000;

function metaItem(label, value, extra = {}) {
  return h('div', { class: 'meta-item', ...extra }, h('dt', {}, label), h('dd', {}, value));
}

function attributesBlock(attrs) {
  const entries = Object.entries(attrs || {});
  if (!entries.length) return null;
  return h(
    'details',
    { class: 'attributes' },
    h('summary', {}, `Attributes (${entries.length})`),
    h(
      'dl',
      { class: 'kv-list kv-grid' },
      entries.map(([k, v]) => h('div', { class: 'kv' }, h('dt', { class: 'mono' }, k), h('dd', { class: 'mono' }, formatValue(v)))),
    ),
  );
}

function renderHeader(host, ex, slaEl) {
  const tags = ex.policy_tags || [];
  replace(
    host,
    h(
      'div',
      { class: 'detail-title' },
      h(
        'div',
        {},
        h('p', { class: 'eyebrow mono' }, ex.exception_id),
        h('h1', { tabindex: '-1', 'data-testid': 'exception-title' }, ex.exception_type),
        ex.summary ? h('p', { class: 'detail-summary' }, ex.summary) : null,
      ),
      h(
        'div',
        { class: 'title-badges' },
        h('span', { 'data-testid': 'exception-severity' }, severityBadge(ex.severity)),
        h('span', { 'data-testid': 'exception-status', 'data-status': ex.status }, statusBadge(ex.status)),
      ),
    ),
    h(
      'dl',
      { class: 'meta-grid' },
      metaItem('Domain', ex.domain),
      metaItem('Owner', formatOwner(ex.owner), { 'data-testid': 'exception-owner' }),
      metaItem('SLA', slaEl),
      metaItem('Source', ex.source_system || '—'),
      metaItem('Created', h('time', { datetime: ex.created_at, title: formatDateTime(ex.created_at) }, relativeTime(ex.created_at))),
      metaItem('Updated', h('time', { datetime: ex.updated_at, title: formatDateTime(ex.updated_at) }, relativeTime(ex.updated_at))),
      tags.length ? metaItem('Tags', h('span', { class: 'chips' }, tags.map((t) => h('span', { class: 'chip' }, t)))) : null,
    ),
    attributesBlock(ex.attributes),
  );
}

export async function render(root, ctx) {
  const id = ctx.params.id;
  const headerHost = h('section', { class: 'card detail-header', 'aria-label': 'Exception details' }, loading('Loading exception…'));
  const slaEl = h('span', { class: 'sla', 'data-testid': 'sla-countdown' });
  const pageErr = errorSlot();
  const slaHost = h('div', { class: 'sla-host' });
  let exception = null;

  const refresh = async () => {
    await Promise.all([loadHeader(), loadPanel(), loadTimeline()]);
  };
  const panel = playbookPanel({ exceptionId: id, onChanged: () => refreshWithFollowUp() });
  const tl = timeline({ exceptionId: id, onChanged: () => loadTimeline() });

  replace(
    root,
    h(
      'div',
      { class: 'container detail' },
      h('a', { class: 'back-link', href: '#/exceptions' }, icon('arrowLeft'), 'Exceptions'),
      pageErr,
      slaHost,
      headerHost,
      h('div', { class: 'detail-columns' }, panel.el, tl.el),
    ),
  );

  function tickSla() {
    if (!exception) return;
    const s = slaState(exception.sla_deadline);
    const done = exception.status === 'resolved' || exception.status === 'closed';
    slaEl.className = `sla sla-${done && s.tone !== 'none' ? 'done' : s.tone}`;
    slaEl.textContent = s.text;
    slaEl.title = exception.sla_deadline ? `Deadline ${formatDateTime(exception.sla_deadline)}` : '';
  }

  async function loadHeader() {
    try {
      const ex = await api.get(`/api/exceptions/${seg(id)}`, { signal: ctx.signal });
      if (!ctx.alive()) return;
      const first = !exception;
      const changed = JSON.stringify(ex) !== JSON.stringify(exception);
      exception = ex;
      if (changed) {
        renderHeader(headerHost, ex, slaEl);
        tickSla();
        document.title = `${ex.exception_type} ${ex.exception_id} · Exception Playbooks`;
      }
      if (first) headerHost.querySelector('h1')?.focus({ preventScroll: true });
    } catch (e) {
      if (!ctx.alive() || e.name === 'AbortError') return;
      if (!exception) replace(headerHost, h('p', { class: 'muted' }, e.status === 404 ? 'This exception does not exist in your tenant.' : 'Could not load this exception.'));
      showApiError(pageErr, e);
    }
  }

  let lastStatus = null;
  async function loadPanel() {
    try {
      const data = await api.get(`/api/exceptions/${seg(id)}/playbook`, { signal: ctx.signal });
      if (!ctx.alive()) return;
      lastStatus = data;
      if (data && data.playbook) playbookNames.set(data.playbook.playbook_id, data.playbook.name);
      panel.update(data);
    } catch (e) {
      if (!ctx.alive() || e.name === 'AbortError') return;
      panel.showLoadError(e);
    }
  }

  async function loadTimeline() {
    try {
      const items = await fetchAll(`/api/exceptions/${seg(id)}/events`, { limit: 200 }, { signal: ctx.signal });
      if (!ctx.alive()) return;
      tl.update(items);
      replace(slaHost, slaBanner(slaStateFromEvents(items, exception && exception.sla_deadline)));
    } catch (e) {
      if (!ctx.alive() || e.name === 'AbortError') return;
      tl.showLoadError(e);
    }
  }

  function refreshWithFollowUp() {
    for (const ms of FOLLOW_UP_MS) ctx.later(ms, () => Promise.all([loadHeader(), loadTimeline()]));
    return refresh();
  }

  ctx.every(1000, tickSla);
  ctx.every(LIVE_REFRESH_MS, () => {
    if (document.visibilityState === 'visible') Promise.all([loadHeader(), loadTimeline()]);
  });
  document.title = `${id} · Exception Playbooks`;
  ctx.onCleanup(() => {
    document.title = 'Exception Playbooks';
  });

  // Events mostly carry playbook ids; names make the timeline readable.
  const index = await playbookIndex({ signal: ctx.signal });
  if (!ctx.alive()) return;
  const playbookNames = new Map([...index].map(([pid, pb]) => [pid, pb.name]));
  setPlaybookNames(playbookNames);

  panel.setWaiting(true);
  await refresh();

  // Watch a fresh exception until the agents have assigned a playbook (or give up).
  const started = Date.now();
  const poll = async () => {
    if (!ctx.alive()) return;
    const assigned = lastStatus && lastStatus.playbook;
    if (assigned || Date.now() - started > POLL_FOR_MS) {
      panel.setWaiting(false);
      panel.update(lastStatus);
      if (assigned) ctx.later(1500, loadTimeline); // pick up the agent's suggestion
      return;
    }
    await refresh();
    ctx.later(POLL_MS, poll);
  };
  if (lastStatus && lastStatus.playbook) panel.setWaiting(false);
  else ctx.later(POLL_MS, poll);
}
