// #/exceptions/{id}: header with a live SLA countdown, the Recommended Playbook
// panel and the timeline. One refresh() reloads all three after any action.
import { h, replace, icon } from '../dom.js';
import { api, seg, fetchAll } from '../api.js';
import { formatDateTime, formatOwner, relativeTime, slaState, formatValue } from '../format.js';
import { severityBadge, statusBadge } from '../components/badges.js';
import { errorSlot, showApiError, loading } from '../components/feedback.js';
import { playbookPanel } from '../components/playbook-panel.js';
import { timeline } from '../components/timeline.js';
import { setPlaybookNames, eventHeadline } from '../components/event-view.js';
import { playbookIndex } from '../playbook-cache.js';
import { canOperate, username } from '../roles.js';
import { headerActions } from '../components/header-actions.js';
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

function breachBanner(ex) {
  const done = ex.status === 'resolved' || ex.status === 'closed';
  if (!ex.sla_deadline || done) return null;
  const left = new Date(ex.sla_deadline).getTime() - Date.now();
  if (!(left < 0)) return null;
  return h(
    'div',
    { class: 'banner banner-danger sla-breach', role: 'alert', 'data-testid': 'sla-breach' },
    icon('alert'),
    h('strong', {}, 'SLA breached. '),
    `The deadline passed ${relativeTime(ex.sla_deadline)} (${formatDateTime(ex.sla_deadline)}).`,
    ex.owner ? null : ' Nobody owns this exception yet.',
  );
}

function renderHeader(host, ex, slaEl) {
  const tags = ex.policy_tags || [];
  replace(
    host,
    breachBanner(ex),
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
  // What colleagues did while this page was open ("raj.patel: status in progress → resolved").
  const news = h('p', { class: 'page-news', role: 'status', 'data-testid': 'page-news', hidden: true });
  let lastSeq = null;
  const slaHost = h('div', { class: 'sla-host' });
  let exception = null;

  const operator = canOperate();
  let lastItems = null;
  const refresh = async () => {
    await Promise.all([loadHeader(), loadPanel(), loadTimeline()]);
    catchUpWithPanel();
  };
  const panel = playbookPanel({ exceptionId: id, onChanged: () => refreshWithFollowUp(), canAct: operator, me: username() });
  const tl = timeline({ exceptionId: id, onChanged: () => loadTimeline(), canComment: operator });
  const actions = operator ? headerActions({ exceptionId: id, onChanged: () => refreshWithFollowUp() }) : null;
  if (actions) actions.el.hidden = true;
  const columns = h('div', { class: 'detail-columns' }, panel.el, tl.el);

  replace(
    root,
    h(
      'div',
      { class: 'container detail' },
      h('a', { class: 'back-link', href: '#/exceptions' }, icon('arrowLeft'), 'Exceptions'),
      pageErr,
      news,
      slaHost,
      headerHost,
      actions ? actions.el : null,
      columns,
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
        document.title = `${ex.summary || ex.exception_type} · ${ex.exception_id} · Exception Playbooks`;
        if (actions) {
          actions.el.hidden = false;
          actions.update(ex);
        }
      }
      if (first) headerHost.querySelector('h1')?.focus({ preventScroll: true });
    } catch (e) {
      if (!ctx.alive() || e.name === 'AbortError') return;
      if (!exception) {
        replace(headerHost, h('h1', { tabindex: '-1' }, e.status === 404 ? 'Exception not found' : 'Could not load this exception'), h('p', { class: 'muted' }, e.status === 404 ? 'This exception does not exist in your tenant.' : 'Try again in a moment.'));
        // Nothing to act on: no panel, no comment box.
        if (e.status === 404) columns.hidden = true;
      }
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
      announceOthers(items);
      lastItems = items;
      // Once the agents have decided (assigned or not), stop saying they are triaging.
      if (items.some((ev) => ev.event_type === 'PolicyEvaluated' || ev.event_type === 'PlaybookRecalculated')) {
        panel.setWaiting(false);
        if (lastStatus) panel.update(lastStatus);
      }
      replace(slaHost, slaBanner(slaStateFromEvents(items, exception && exception.sla_deadline)));
    } catch (e) {
      if (!ctx.alive() || e.name === 'AbortError') return;
      tl.showLoadError(e);
    }
  }

  // The panel and the timeline are read in parallel, so the panel can show a playbook whose
  // PlaybookStarted the timeline read just missed: read the timeline again, a bounded few times.
  let catchUps = 0;
  function catchUpWithPanel() {
    if (!lastItems) return;
    const started = lastItems.some((ev) => ev.event_type === 'PlaybookStarted' || ev.event_type === 'PlaybookRecalculated');
    if (!lastStatus || !lastStatus.playbook || started || catchUps >= FOLLOW_UP_MS.length) return;
    ctx.later(FOLLOW_UP_MS[catchUps], async () => {
      await loadTimeline();
      catchUpWithPanel();
    });
    catchUps += 1;
  }

  const WORTH_TELLING = new Set(['OwnerAssigned', 'StatusChanged', 'ExceptionUpdated', 'CommentAdded', 'PlaybookRecalculated']);
  function announceOthers(items) {
    const newest = items.length ? items[items.length - 1].seq : 0;
    if (lastSeq !== null) {
      const theirs = items.filter((ev) => ev.seq > lastSeq && ev.actor_type === 'human' && ev.actor_id !== username() && WORTH_TELLING.has(ev.event_type));
      if (theirs.length) {
        const said = theirs.map((ev) => `${ev.actor_id}: ${eventHeadline(ev)}`).join(' · ');
        news.textContent = `Changed by others while you were here — ${said}`;
        news.hidden = false;
      }
    }
    lastSeq = Math.max(lastSeq ?? 0, newest);
  }

  function refreshWithFollowUp() {
    for (const ms of FOLLOW_UP_MS) ctx.later(ms, () => Promise.all([loadHeader(), loadTimeline()]));
    return refresh();
  }

  ctx.every(1000, tickSla);
  // Header, panel and timeline refresh together, so the panel never offers a step someone
  // else already did (and says who did it).
  ctx.every(LIVE_REFRESH_MS, () => {
    if (document.visibilityState === 'visible') refresh();
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
