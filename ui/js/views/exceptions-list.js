// #/exceptions: filterable, paged list (newest first) and the "New exception" form.
import { h, replace, field, icon } from '../dom.js';
import { api, seg } from '../api.js';
import { navigate, replaceQuery } from '../router.js';
import { formatOwner, formatShort, relativeTime, slaState, formatDateTime } from '../format.js';
import { primeSlaClock, slaClockAttrs } from '../components/sla-banner.js';
import { STATUSES, SEVERITIES, severityBadge, statusBadge } from '../components/badges.js';
import { errorSlot, showApiError, clearError, loading, announce } from '../components/feedback.js';
import { exceptionForm } from '../components/exception-form.js';
import { playbookIndex } from '../playbook-cache.js';

const LIMITS = [25, 50, 100, 200];
const COLUMNS = ['ID', 'Type', 'Domain', 'Severity', 'Status', 'Owner', 'Playbook / step', 'SLA', 'Created'];

function select(name, allLabel, values, current) {
  return h(
    'select',
    { name },
    h('option', { value: '' }, allLabel),
    values.map((v) => h('option', { value: v, selected: v === current }, v.replace(/_/g, ' '))),
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

function slaCell(ex) {
  const sla = slaState(ex.sla_deadline);
  const done = ex.status === 'resolved' || ex.status === 'closed';
  return h(
    'span',
    {
      class: `sla sla-${done && sla.tone !== 'none' ? 'done' : sla.tone}`,
      title: ex.sla_deadline ? formatDateTime(ex.sla_deadline) : '',
      ...slaClockAttrs(ex),
    },
    sla.tone === 'none' ? '—' : sla.text,
  );
}

function row(ex, playbooks) {
  const open = () => navigate(`/exceptions/${seg(ex.exception_id)}`);
  const cells = [
    h('span', { class: 'mono id-cell' }, ex.exception_id),
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
        if (ev.target.closest('a')) return;
        open();
      },
      onkeydown: (ev) => {
        if (ev.key === 'Enter' || ev.key === ' ') {
          ev.preventDefault();
          open();
        }
      },
    },
    cells.map((c, i) => h('td', { 'data-label': COLUMNS[i] }, c)),
  );
}

export async function render(root, ctx) {
  primeSlaClock();
  const q = ctx.query;
  const state = {
    status: STATUSES.includes(q.status) ? q.status : '',
    severity: SEVERITIES.includes(q.severity) ? q.severity : '',
    domain: q.domain || '',
    limit: LIMITS.includes(Number(q.limit)) ? Number(q.limit) : 50,
    cursors: [null], // cursor of each page visited; last = current page
    nextCursor: null,
  };
  const domains = new Set();
  const err = errorSlot();

  // --- new exception form (collapsed until asked for) ---
  const formHost = h('div', { class: 'form-host', hidden: true });
  const newBtn = h('button', { type: 'button', class: 'btn btn-primary', 'aria-expanded': 'false', 'aria-controls': 'new-exception' }, '+ New exception');
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
  newBtn.addEventListener('click', () => toggleForm(formHost.hidden));
  formHost.id = 'new-exception';

  // --- filters ---
  const status = field('Status', select('status', 'All statuses', STATUSES, state.status));
  const severity = field('Severity', select('severity', 'All severities', SEVERITIES, state.severity));
  const domainList = h('datalist', { id: 'domain-options' });
  const domain = field('Domain', h('input', { name: 'domain', value: state.domain, list: 'domain-options', placeholder: 'Any domain', autocomplete: 'off' }));
  const limit = field('Per page', h('select', { name: 'limit' }, LIMITS.map((n) => h('option', { value: n, selected: n === state.limit }, String(n)))));
  const clearBtn = h('button', { type: 'button', class: 'btn btn-ghost' }, 'Clear filters');
  const filters = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Filter exceptions' },
    status.wrap,
    severity.wrap,
    domain.wrap,
    limit.wrap,
    h('div', { class: 'filter-actions' }, h('button', { type: 'submit', class: 'btn' }, 'Apply'), clearBtn),
    domainList,
  );

  // --- table + pager ---
  const tbody = h('tbody');
  const table = h(
    'table',
    { class: 'data-table exceptions-table', 'data-testid': 'exceptions-table' },
    h('caption', { class: 'sr-only' }, 'Exceptions, newest first'),
    h('thead', {}, h('tr', {}, COLUMNS.map((c) => h('th', { scope: 'col' }, c)))),
    tbody,
  );
  const tableWrap = h('div', { class: 'table-wrap', 'aria-live': 'polite' }, table);
  const pageInfo = h('span', { class: 'page-info' });
  const firstBtn = h('button', { type: 'button', class: 'btn btn-sm' }, 'First page');
  const prevBtn = h('button', { type: 'button', class: 'btn btn-sm' }, 'Previous page');
  const nextBtn = h('button', { type: 'button', class: 'btn btn-sm' }, 'Next page');
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' }, pageInfo, h('div', { class: 'pager-buttons' }, firstBtn, prevBtn, nextBtn));
  const refreshBtn = h('button', { type: 'button', class: 'btn btn-ghost', title: 'Reload this page of results' }, icon('refresh'), h('span', { class: 'btn-label' }, 'Refresh'));

  replace(
    root,
    h(
      'div',
      { class: 'container' },
      h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, 'Exceptions'), h('div', { class: 'page-actions' }, refreshBtn, newBtn)),
      formHost,
      h('section', { class: 'card' }, filters, err, tableWrap, pager),
    ),
  );

  // Only the newest request may paint: quick filter changes can overlap.
  let loadSeq = 0;
  async function load() {
    loadSeq += 1;
    const mine = loadSeq;
    const cursor = state.cursors[state.cursors.length - 1];
    tableWrap.setAttribute('aria-busy', 'true');
    if (!tbody.firstChild) replace(tbody, h('tr', {}, h('td', { colspan: COLUMNS.length }, loading('Loading exceptions…'))));
    for (const b of [firstBtn, prevBtn, nextBtn]) b.disabled = true;
    try {
      const [data, playbooks] = await Promise.all([
        api.get('/api/exceptions', {
          query: { status: state.status, severity: state.severity, domain: state.domain, limit: state.limit, cursor },
          signal: ctx.signal,
        }),
        playbookIndex({ signal: ctx.signal }),
      ]);
      if (!ctx.alive() || mine !== loadSeq) return;
      clearError(err);
      const items = (data && data.items) || [];
      state.nextCursor = (data && data.next_cursor) || null;
      for (const ex of items) if (ex.domain) domains.add(ex.domain);
      replace(domainList, [...domains].sort().map((d) => h('option', { value: d })));
      if (items.length) replace(tbody, items.map((ex) => row(ex, playbooks)));
      else {
        const filtered = state.status || state.severity || state.domain;
        replace(
          tbody,
          h('tr', { class: 'empty-row' }, h('td', { colspan: COLUMNS.length }, h('div', { class: 'empty' },
            h('p', { class: 'strong' }, filtered ? 'No exceptions match these filters.' : 'No exceptions yet.'),
            h('p', { class: 'muted' }, filtered ? 'Try clearing a filter.' : 'Create one with “New exception”, or send one from a source system.'),
          ))),
        );
      }
      const page = state.cursors.length;
      pageInfo.textContent = `Page ${page} · ${items.length} shown${state.nextCursor ? ' · more available' : ''}`;
      firstBtn.disabled = page === 1;
      prevBtn.disabled = page === 1;
      nextBtn.disabled = !state.nextCursor;
      announce(`${items.length} exceptions shown, page ${page}`);
    } catch (e) {
      if (!ctx.alive() || mine !== loadSeq) return;
      replace(tbody);
      showApiError(err, e);
    } finally {
      tableWrap.removeAttribute('aria-busy');
    }
  }

  function applyFilters() {
    const next = {
      status: status.input.value,
      severity: severity.input.value,
      domain: domain.input.value.trim(),
      limit: Number(limit.input.value) || 50,
    };
    Object.assign(state, next);
    state.cursors = [null];
    replaceQuery({ status: state.status, severity: state.severity, domain: state.domain, limit: state.limit === 50 ? '' : state.limit });
    load();
  }

  filters.addEventListener('submit', (ev) => {
    ev.preventDefault();
    applyFilters();
  });
  for (const f of [status, severity, limit]) f.input.addEventListener('change', applyFilters);
  domain.input.addEventListener('change', applyFilters);
  clearBtn.addEventListener('click', () => {
    status.input.value = '';
    severity.input.value = '';
    domain.input.value = '';
    applyFilters();
  });
  firstBtn.addEventListener('click', () => {
    state.cursors = [null];
    load();
  });
  prevBtn.addEventListener('click', () => {
    if (state.cursors.length > 1) state.cursors.pop();
    load();
  });
  nextBtn.addEventListener('click', () => {
    if (!state.nextCursor) return;
    state.cursors.push(state.nextCursor);
    load();
  });
  refreshBtn.addEventListener('click', load);

  await load();
}
