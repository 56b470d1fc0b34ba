// #/exceptions: the operator's work queue. Saved views with counts, sorts, multi-value
// filters, owner and search; every bit of it (and the page being read) lives in the URL,
// so Back, reload and "open in new tab" return to the same place. Rows are real links.
import { h, replace, field, icon, uid } from '../dom.js';
import { api, seg } from '../api.js';
import { navigate, replaceQuery } from '../router.js';
import { formatOwner, formatShort, relativeTime, slaState, formatDateTime } from '../format.js';
import { primeSlaClock, slaClockAttrs } from '../components/sla-banner.js';
import { STATUSES, SEVERITIES, severityBadge, statusBadge } from '../components/badges.js';
import { errorSlot, showApiError, showError, clearError, loading, announce } from '../components/feedback.js';
import { exceptionForm } from '../components/exception-form.js';
import { playbookIndex } from '../playbook-cache.js';
import { canCreate, canOperate, username } from '../roles.js';
import { bulkBar } from '../components/bulk-actions.js';
import { keyboardHelp } from '../components/keyboard-help.js';

const LIMITS = [10, 25, 50, 100, 200];
const OPEN_STATUSES = STATUSES.filter((s) => s !== 'resolved' && s !== 'closed');
const SORTS = [
  ['created_at', 'Newest first'],
  ['sla_deadline', 'SLA deadline (soonest first, open work)'],
  ['severity', 'Severity (most severe first)'],
];
const BREACHING_HOURS = 4;

// Saved views: a name, the count key of ?counts=true, and the query they stand for.
const VIEWS = [
  { id: 'mine', label: 'Mine', count: 'mine', query: () => ({ owner: username(), status: OPEN_STATUSES.join(','), sort: 'sla_deadline' }) },
  { id: 'unassigned', label: 'Unassigned', count: 'unassigned', query: () => ({ unassigned: 'true', sort: 'sla_deadline' }) },
  { id: 'breaching', label: 'Breaching soon', count: 'breaching_soon', query: () => ({ sort: 'sla_deadline', sla_before: new Date(Date.now() + BREACHING_HOURS * 3600_000).toISOString() }) },
  { id: 'open', label: 'All open', count: 'open', query: () => ({ status: OPEN_STATUSES.join(','), sort: 'sla_deadline' }) },
  { id: 'all', label: 'Everything', count: null, query: () => ({}) },
];

function columns(selectable) {
  return [...(selectable ? [''] : []), 'ID', 'Type', 'Domain', 'Severity', 'Status', 'Owner', 'Playbook / step', 'SLA', 'Created'];
}

function listParam(value, allowed) {
  return String(value || '')
    .split(',')
    .filter((v) => allowed.includes(v));
}

function multiSelect(name, values, current) {
  return h(
    'select',
    { name, multiple: true, size: String(Math.min(values.length, 4)) },
    values.map((v) => h('option', { value: v, selected: current.includes(v) }, v.replace(/_/g, ' '))),
  );
}

function playbookCell(ex, playbooks) {
  if (!ex.current_playbook_id) return h('span', { class: 'muted', title: 'No playbook assigned' }, '—');
  const pb = playbooks.get(ex.current_playbook_id);
  const name = pb ? pb.name : ex.current_playbook_id;
  const where = ex.current_step ? `step ${ex.current_step}` : 'done';
  return h(
    'span',
    { class: 'pb-cell' },
    h('span', { class: 'pb-name', title: name }, name),
    h('span', { class: 'pb-step' }, ex.current_playbook_version ? `v${ex.current_playbook_version} · ${where}` : where),
  );
}

/** SLA countdown with urgency: overdue, under 1 h (urgent), under 4 h (soon), later. */
export function slaCell(ex, now = Date.now()) {
  const sla = slaState(ex.sla_deadline, now);
  const done = ex.status === 'resolved' || ex.status === 'closed';
  // The SLA clock's state (issue 18: data-testid "sla-state", data-sla-state) rides on the same cell.
  if (sla.tone === 'none') return h('span', { class: 'sla sla-none', ...slaClockAttrs(ex) }, '—');
  const left = new Date(ex.sla_deadline).getTime() - now;
  const urgency = done ? 'done' : left < 0 ? 'overdue' : left < 3600_000 ? 'urgent' : left < BREACHING_HOURS * 3600_000 ? 'soon' : 'later';
  return h(
    'span',
    {
      ...slaClockAttrs(ex),
      class: `sla sla-${done ? 'done' : sla.tone} sla-urgency-${urgency}`,
      'data-urgency': urgency,
      title: `Deadline ${formatDateTime(ex.sla_deadline)}`,
    },
    urgency === 'overdue' ? icon('alert') : null,
    urgency === 'overdue' ? 'Overdue ' : null,
    urgency === 'overdue' ? sla.text.replace(/^overdue /, '') : sla.text,
  );
}

export async function render(root, ctx) {
  primeSlaClock();
  const q = ctx.query;
  const operator = canOperate();
  const state = {
    view: VIEWS.some((v) => v.id === q.view) ? q.view : '',
    status: listParam(q.status, STATUSES),
    severity: listParam(q.severity, SEVERITIES),
    domain: q.domain || '',
    owner: q.owner || '',
    unassigned: q.unassigned === 'true',
    q: q.q || '',
    sort: SORTS.some(([s]) => s === q.sort) ? q.sort : 'created_at',
    sla_before: q.sla_before || '',
    limit: LIMITS.includes(Number(q.limit)) ? Number(q.limit) : 50,
    // The cursors of the pages read so far, in the URL so Back returns to the same page.
    cursors: [null, ...String(q.pages || '').split('.').filter(Boolean)],
    nextCursor: null,
  };
  const domains = new Set();
  const err = errorSlot();
  const cols = columns(operator);

  // --- new exception form (collapsed until asked for; only for roles that may create) ---
  const formHost = h('div', { class: 'form-host', hidden: true, id: 'new-exception' });
  const newBtn = canCreate()
    ? h('button', { type: 'button', class: 'btn btn-primary', 'aria-expanded': 'false', 'aria-controls': 'new-exception' }, '+ New exception')
    : null;
  const toggleForm = (show) => {
    formHost.hidden = !show;
    newBtn.setAttribute('aria-expanded', String(show));
    if (show && !formHost.firstChild) {
      formHost.append(
        exceptionForm({
          onCreated: (ex) => navigate(`/exceptions/${seg(ex.exception_id)}`),
          onCancel: () => {
            toggleForm(false);
            newBtn.focus();
          },
        }),
      );
    }
    if (show) formHost.querySelector('input')?.focus();
  };
  if (newBtn) newBtn.addEventListener('click', () => toggleForm(formHost.hidden));

  // --- saved views ---
  const viewLinks = new Map();
  const viewNav = h(
    'nav',
    { class: 'saved-views', 'aria-label': 'Saved views', 'data-testid': 'saved-views' },
    h(
      'ul',
      {},
      VIEWS.map((v) => {
        const countEl = h('span', { class: 'count-pill', 'data-testid': `view-count-${v.id}` }, v.count ? '…' : '');
        const link = h(
          'a',
          { href: '#/exceptions', 'data-testid': `view-${v.id}`, 'aria-current': state.view === v.id ? 'page' : null },
          v.label,
          v.count ? ' ' : null,
          v.count ? countEl : null,
        );
        link.addEventListener('click', (ev) => {
          ev.preventDefault();
          chooseView(v);
        });
        viewLinks.set(v.id, { link, countEl, view: v });
        return h('li', {}, link);
      }),
    ),
  );

  // --- filters ---
  const search = field('Search', h('input', { name: 'q', type: 'search', value: state.q, placeholder: 'Exception id or summary words', autocomplete: 'off', maxlength: '200' }));
  const sort = field('Sort', h('select', { name: 'sort' }, SORTS.map(([v, label]) => h('option', { value: v, selected: v === state.sort }, label))));
  const status = field('Status', multiSelect('status', STATUSES, state.status), { hint: 'Ctrl/⌘-click for several' });
  const severity = field('Severity', multiSelect('severity', SEVERITIES, state.severity));
  const owner = field('Owner', h('input', { name: 'owner', value: state.unassigned ? '' : state.owner, placeholder: 'Any owner (user id)', autocomplete: 'off' }));
  const domainList = h('datalist', { id: uid('domain-options') });
  const domain = field('Domain', h('input', { name: 'domain', value: state.domain, list: domainList.id, placeholder: 'Any domain', autocomplete: 'off' }));
  const limit = field('Per page', h('select', { name: 'limit' }, LIMITS.map((n) => h('option', { value: n, selected: n === state.limit }, String(n)))));
  const clearBtn = h('button', { type: 'button', class: 'btn btn-ghost' }, 'Clear filters');
  const filters = h(
    'form',
    { class: 'filters queue-filters', role: 'search', 'aria-label': 'Filter exceptions' },
    search.wrap,
    sort.wrap,
    status.wrap,
    severity.wrap,
    owner.wrap,
    domain.wrap,
    limit.wrap,
    h('div', { class: 'filter-actions' }, h('button', { type: 'submit', class: 'btn' }, 'Apply'), clearBtn),
    domainList,
  );

  // --- table + pager ---
  const tbody = h('tbody');
  const selectAll = operator ? h('input', { type: 'checkbox', 'aria-label': 'Select every exception on this page', 'data-testid': 'select-all' }) : null;
  const table = h(
    'table',
    { class: 'data-table exceptions-table', 'data-testid': 'exceptions-table' },
    h('caption', { class: 'sr-only' }, 'Exceptions'),
    h('thead', {}, h('tr', {}, cols.map((c, i) => h('th', { scope: 'col' }, operator && i === 0 ? selectAll : c)))),
    tbody,
  );
  const tableWrap = h('div', { class: 'table-wrap', 'aria-live': 'polite', tabindex: '0', role: 'region', 'aria-label': 'Exceptions table' }, table);
  const pageInfo = h('span', { class: 'page-info', 'data-testid': 'page-info' });
  const firstBtn = h('button', { type: 'button', class: 'btn btn-sm' }, 'First page');
  const prevBtn = h('button', { type: 'button', class: 'btn btn-sm' }, 'Previous page');
  const nextBtn = h('button', { type: 'button', class: 'btn btn-sm', 'data-testid': 'next-page' }, 'Next page');
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' }, pageInfo, h('div', { class: 'pager-buttons' }, firstBtn, prevBtn, nextBtn));
  const refreshBtn = h('button', { type: 'button', class: 'btn btn-ghost', title: 'Reload this page of results' }, icon('refresh'), h('span', { class: 'btn-label' }, 'Refresh'));
  const helpBtn = h('button', { type: 'button', class: 'btn btn-ghost', 'aria-keyshortcuts': '?' }, 'Keyboard shortcuts');
  const help = keyboardHelp();
  helpBtn.addEventListener('click', () => help.open(helpBtn));

  const selected = new Set();
  const bulk = operator ? bulkBar({ selected, onDone: () => reload() }) : null;

  replace(
    root,
    h(
      'div',
      { class: 'container' },
      h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, 'Exceptions'), h('div', { class: 'page-actions' }, helpBtn, refreshBtn, newBtn)),
      formHost,
      viewNav,
      h('section', { class: 'card', 'aria-label': 'Work queue' }, filters, err, bulk ? bulk.el : null, tableWrap, pager),
      help.el,
    ),
  );

  function row(ex, playbooks) {
    const href = `#/exceptions/${seg(ex.exception_id)}`;
    const check = operator
      ? h('input', { type: 'checkbox', 'aria-label': `Select ${ex.exception_id}`, 'data-testid': 'select-row', checked: selected.has(ex.exception_id) })
      : null;
    if (check)
      check.addEventListener('change', () => {
        if (check.checked) selected.add(ex.exception_id);
        else selected.delete(ex.exception_id);
        bulk.refresh();
      });
    const cells = [
      ...(operator ? [check] : []),
      h('a', { class: 'mono id-cell row-link', href }, ex.exception_id),
      h('span', { class: 'type-cell' }, h('span', { class: 'strong' }, ex.exception_type), ex.summary ? h('span', { class: 'summary-line', title: ex.summary }, ex.summary) : null),
      ex.domain,
      severityBadge(ex.severity),
      statusBadge(ex.status),
      h('span', { class: ex.owner ? '' : 'muted' }, formatOwner(ex.owner)),
      playbookCell(ex, playbooks),
      slaCell(ex),
      h('span', { class: 'nowrap', title: `${formatDateTime(ex.created_at)} (${relativeTime(ex.created_at)})` }, formatShort(ex.created_at)),
    ];
    return h(
      'tr',
      {
        class: 'clickable',
        tabindex: '0',
        'data-testid': 'exception-row',
        'data-exception-id': ex.exception_id,
        'aria-label': `${ex.exception_type} ${ex.exception_id}, ${ex.status}`,
        onclick: (ev) => {
          if (window.getSelection && String(window.getSelection()).length) return; // let people copy ids
          if (ev.target.closest('a, input, button, label')) return;
          navigate(`/exceptions/${seg(ex.exception_id)}`);
        },
        onkeydown: (ev) => {
          if (ev.target !== ev.currentTarget) return;
          if (ev.key === 'Enter' || ev.key === ' ') {
            ev.preventDefault();
            navigate(`/exceptions/${seg(ex.exception_id)}`);
          }
        },
      },
      cells.map((c, i) => h('td', { 'data-label': cols[i] || 'Select' }, c)),
    );
  }

  // What the filters ask for, shared by the API request and the address bar.
  function filterQuery() {
    return {
      domain: state.domain,
      owner: state.unassigned ? '' : state.owner,
      unassigned: state.unassigned ? 'true' : '',
      q: state.q,
      sort: state.sort === 'created_at' ? '' : state.sort,
      sla_before: state.sort === 'sla_deadline' ? state.sla_before : '',
    };
  }

  // The saved views' counts cost a bounded read of the open work: asked for when the queue is
  // opened, a view chosen or Refresh pressed, not with every page or filter change.
  let wantCounts = true;
  function apiQuery(cursor) {
    return { ...filterQuery(), status: state.status, severity: state.severity, limit: state.limit, cursor, counts: wantCounts ? 'true' : '' };
  }

  function urlQuery() {
    return {
      ...filterQuery(),
      view: state.view,
      status: state.status.join(','),
      severity: state.severity.join(','),
      limit: state.limit === 50 ? '' : state.limit,
      pages: state.cursors.slice(1).join('.'),
    };
  }

  function showCounts(counts) {
    for (const { countEl, view } of viewLinks.values()) {
      if (!view.count) continue;
      const n = counts ? counts[view.count] : null;
      countEl.textContent = n === null || n === undefined ? '—' : `${n}${counts.capped ? '+' : ''}`;
      countEl.setAttribute('aria-label', `${n ?? 'unknown'} exceptions`);
    }
  }

  // Only the newest request may paint: quick filter changes can overlap.
  let loadSeq = 0;
  async function load() {
    loadSeq += 1;
    const mine = loadSeq;
    const cursor = state.cursors[state.cursors.length - 1];
    tableWrap.setAttribute('aria-busy', 'true');
    if (!tbody.firstChild) replace(tbody, h('tr', {}, h('td', { colspan: cols.length }, loading('Loading exceptions…'))));
    for (const b of [firstBtn, prevBtn, nextBtn]) b.disabled = true;
    try {
      const [data, playbooks] = await Promise.all([
        api.get('/api/exceptions', { query: apiQuery(cursor), signal: ctx.signal }),
        playbookIndex({ signal: ctx.signal }),
      ]);
      if (!ctx.alive() || mine !== loadSeq) return;
      clearError(err);
      const items = (data && data.items) || [];
      state.nextCursor = (data && data.next_cursor) || null;
      if (data && data.counts) showCounts(data.counts);
      wantCounts = false;
      for (const ex of items) if (ex.domain) domains.add(ex.domain);
      replace(domainList, [...domains].sort().map((d) => h('option', { value: d })));
      if (items.length) replace(tbody, items.map((ex) => row(ex, playbooks)));
      else {
        const filtered = state.status.length || state.severity.length || state.domain || state.owner || state.unassigned || state.q;
        const more = Boolean(state.nextCursor);
        replace(
          tbody,
          h('tr', { class: 'empty-row' }, h('td', { colspan: cols.length }, h('div', { class: 'empty' },
            h('p', { class: 'strong' }, more ? 'No matches in this part of the list.' : filtered ? 'No exceptions match these filters.' : 'No exceptions yet.'),
            h('p', { class: 'muted' }, more ? 'Use “Next page” to keep looking.' : filtered ? 'Try clearing a filter.' : 'Create one with “New exception”, or send one from a source system.'),
          ))),
        );
      }
      const page = state.cursors.length;
      pageInfo.textContent = `Page ${page} · ${items.length} shown${state.nextCursor ? ' · more available' : ''}`;
      firstBtn.disabled = page === 1;
      prevBtn.disabled = page === 1;
      nextBtn.disabled = !state.nextCursor;
      if (bulk) bulk.refresh();
      if (selectAll) selectAll.checked = items.length > 0 && items.every((ex) => selected.has(ex.exception_id));
      announce(`${items.length} exceptions shown, page ${page}`);
    } catch (e) {
      if (!ctx.alive() || mine !== loadSeq) return;
      replace(tbody);
      showApiError(err, e);
    } finally {
      tableWrap.removeAttribute('aria-busy');
    }
  }

  function go() {
    replaceQuery(urlQuery());
    for (const [id, { link }] of viewLinks) link.setAttribute('aria-current', id === state.view ? 'page' : 'false');
    load();
  }

  function chooseView(v) {
    wantCounts = true;
    const query = v.query();
    Object.assign(state, {
      view: v.id,
      status: listParam(query.status, STATUSES),
      severity: [],
      domain: '',
      owner: query.owner || '',
      unassigned: query.unassigned === 'true',
      q: '',
      sort: query.sort || 'created_at',
      sla_before: query.sla_before || '',
      cursors: [null],
    });
    search.input.value = '';
    sort.input.value = state.sort;
    for (const o of status.input.options) o.selected = state.status.includes(o.value);
    for (const o of severity.input.options) o.selected = false;
    owner.input.value = state.owner;
    domain.input.value = '';
    go();
  }

  function applyFilters() {
    const values = (select) => [...select.selectedOptions].map((o) => o.value);
    const ownerValue = owner.input.value.trim();
    Object.assign(state, {
      view: '',
      status: values(status.input),
      severity: values(severity.input),
      domain: domain.input.value.trim(),
      owner: ownerValue,
      unassigned: false,
      q: search.input.value.trim(),
      sort: sort.input.value,
      sla_before: sort.input.value === 'sla_deadline' ? state.sla_before : '',
      limit: Number(limit.input.value) || 50,
      cursors: [null],
    });
    if (state.sort === 'sla_deadline' && state.status.some((s) => s === 'resolved' || s === 'closed')) {
      showError(err, 'The SLA order lists open work only: clear “resolved” and “closed” from Status, or pick another order.');
      return;
    }
    go();
  }

  filters.addEventListener('submit', (ev) => {
    ev.preventDefault();
    applyFilters();
  });
  for (const f of [status, severity, limit, sort]) f.input.addEventListener('change', applyFilters);
  domain.input.addEventListener('change', applyFilters);
  owner.input.addEventListener('change', applyFilters);
  clearBtn.addEventListener('click', () => {
    for (const f of [search, owner, domain]) f.input.value = '';
    for (const o of [...status.input.options, ...severity.input.options]) o.selected = false;
    sort.input.value = 'created_at';
    applyFilters();
  });
  firstBtn.addEventListener('click', () => {
    state.cursors = [null];
    go();
  });
  prevBtn.addEventListener('click', () => {
    if (state.cursors.length > 1) state.cursors.pop();
    go();
  });
  nextBtn.addEventListener('click', () => {
    if (!state.nextCursor) return;
    state.cursors.push(state.nextCursor);
    go();
  });
  const reload = () => {
    wantCounts = true;
    return load();
  };
  refreshBtn.addEventListener('click', reload);
  if (selectAll)
    selectAll.addEventListener('change', () => {
      for (const tr of tbody.querySelectorAll('[data-testid="exception-row"]')) {
        const id = tr.getAttribute('data-exception-id');
        if (selectAll.checked) selected.add(id);
        else selected.delete(id);
        const box = tr.querySelector('[data-testid="select-row"]');
        if (box) box.checked = selectAll.checked;
      }
      bulk.refresh();
    });

  // Keyboard: j/k move between rows, Enter opens (the row's own handler), ? help, Esc closes.
  const onKey = (ev) => {
    if (ev.defaultPrevented || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const typing = ev.target.closest && ev.target.closest('input, textarea, select, [contenteditable]');
    if (ev.key === 'Escape') {
      if (help.close()) ev.preventDefault();
      return;
    }
    if (typing) return;
    if (ev.key === '?') {
      ev.preventDefault();
      help.open(document.activeElement);
      return;
    }
    if (ev.key !== 'j' && ev.key !== 'k') return;
    const rows = [...tbody.querySelectorAll('[data-testid="exception-row"]')];
    if (!rows.length) return;
    ev.preventDefault();
    const at = rows.indexOf(document.activeElement.closest ? document.activeElement.closest('tr') : null);
    const next = ev.key === 'j' ? Math.min(rows.length - 1, at + 1) : Math.max(0, at < 0 ? 0 : at - 1);
    rows[next].focus();
  };
  document.addEventListener('keydown', onKey);
  ctx.onCleanup(() => document.removeEventListener('keydown', onKey));

  await load();
}
