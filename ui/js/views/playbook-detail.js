// #/playbooks/{id}[?version=N]: conditions, steps, version history, stats,
// Edit (PUT -> new version) and Deactivate (DELETE).
import { h, replace, icon } from '../dom.js';
import { api, seg } from '../api.js';
import { navigate } from '../router.js';
import { formatDateTime, formatDuration, formatShort, formatValue } from '../format.js';
import { activeBadge } from '../components/badges.js';
import { errorSlot, showApiError, setBusy, loading, announce } from '../components/feedback.js';
import { describeStep, ACTION_LABELS } from '../components/step-describe.js';
import { playbookEditor, editableBody } from '../components/playbook-editor.js';
import { invalidatePlaybooks } from '../playbook-cache.js';
import { setFlash, takeFlash } from './flash.js';

const OP_LABELS = { eq: '=', ne: '≠', in: 'in', not_in: 'not in', gt: '>', gte: '≥', lt: '<', lte: '≤', exists: 'exists', glob: 'matches' };

/** One match object as rows of [condition, readable expectation]. */
function matchRows(match, prefix = '') {
  const rows = [];
  for (const [key, value] of Object.entries(match || {})) {
    if (key === 'attributes' && value && typeof value === 'object') {
      for (const [path, ops] of Object.entries(value)) {
        const opText = ops && typeof ops === 'object' ? Object.entries(ops).map(([op, v]) => `${OP_LABELS[op] || op} ${formatValue(v)}`).join(' and ') : formatValue(ops);
        rows.push([`${prefix}attributes.${path}`, opText]);
      }
    } else if (key === 'any_of' && Array.isArray(value)) {
      const alternatives = value.map((m) => matchRows(m).map(([k, v]) => `${k} ${v}`).join(' and ') || 'anything');
      rows.push([`${prefix}any_of`, alternatives.map((a) => `(${a})`).join(' or ')]);
    } else {
      rows.push([`${prefix}${key}`, formatValue(value)]);
    }
  }
  return rows;
}

function conditionsCard(pb) {
  const cond = pb.conditions || {};
  const rows = matchRows(cond.match);
  return h(
    'section',
    { class: 'card' },
    h('div', { class: 'card-head' }, h('h2', {}, 'Conditions'), h('span', { class: 'chip' }, `priority ${cond.priority ?? 0}`)),
    rows.length
      ? h(
          'table',
          { class: 'data-table compact' },
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Condition'), h('th', { scope: 'col' }, 'Holds when'))),
          h('tbody', {}, rows.map(([k, v]) => h('tr', {}, h('td', { class: 'mono' }, k), h('td', { class: 'mono' }, v)))),
        )
      : h('p', { class: 'muted' }, 'No conditions: a catch-all that matches every exception of the tenant.'),
    h('details', { class: 'raw' }, h('summary', {}, 'Raw conditions JSON'), h('pre', {}, JSON.stringify(cond, null, 2))),
  );
}

function stepsCard(pb) {
  const steps = pb.steps || [];
  return h(
    'section',
    { class: 'card' },
    h('div', { class: 'card-head' }, h('h2', {}, `Steps (${steps.length})`)),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'data-table steps-table', 'data-testid': 'playbook-steps-table' },
        h('thead', {}, h('tr', {}, ['#', 'Step', 'Action', 'What it does', 'Approval', 'Skippable'].map((t) => h('th', { scope: 'col' }, t)))),
        h(
          'tbody',
          {},
          steps.map((s, i) =>
            h(
              'tr',
              {},
              h('td', { class: 'num' }, String(s.step_order ?? i + 1)),
              h('td', { class: 'strong' }, s.name),
              h('td', {}, h('span', { class: 'chip action' }, ACTION_LABELS[s.action_type] || s.action_type)),
              h('td', { class: 'step-desc' }, describeStep(s)),
              h('td', {}, s.requires_approval ? h('span', { class: 'badge approval' }, 'Required') : h('span', { class: 'muted' }, 'Per policy')),
              h('td', {}, s.skippable === false ? 'No' : 'Yes'),
            ),
          ),
        ),
      ),
    ),
  );
}

function statsCard(stats) {
  if (!stats) return null;
  const t = (s) => (typeof s === 'number' ? formatDuration(s * 1000) : '—');
  const items = [
    ['Runs started', stats.runs_started ?? 0],
    ['Runs completed', stats.runs_completed ?? 0],
    ['Steps completed', stats.steps_completed ?? 0],
    ['Steps skipped', stats.steps_skipped ?? 0],
    ['Mean time to complete', t(stats.mean_time_to_complete_seconds)],
    ['p90 time to complete', t(stats.p90_time_to_complete_seconds)],
  ];
  return h(
    'section',
    { class: 'card' },
    h('div', { class: 'card-head' }, h('h2', {}, 'Usage')),
    h('dl', { class: 'stats-grid' }, items.map(([k, v]) => h('div', { class: 'stat' }, h('dt', {}, k), h('dd', {}, String(v))))),
  );
}

function versionNav(id, latest, shown) {
  const links = [];
  for (let v = latest; v >= 1; v -= 1) {
    links.push(
      h(
        'li',
        {},
        h(
          'a',
          {
            href: `#/playbooks/${seg(id)}${v === latest ? '' : `?version=${v}`}`,
            class: `version-link${v === shown ? ' is-current' : ''}`,
            'aria-current': v === shown ? 'page' : null,
            'data-testid': `version-link-${v}`,
          },
          `v${v}`,
          v === latest ? h('span', { class: 'muted' }, ' latest') : null,
        ),
      ),
    );
  }
  return h('nav', { class: 'versions', 'aria-label': 'Version history' }, h('span', { class: 'versions-label' }, 'Versions'), h('ol', {}, links));
}

export async function render(root, ctx) {
  const id = ctx.params.id;
  const wanted = Number(ctx.query.version) || null;
  const err = errorSlot();
  const container = h('div', { class: 'container' }, h('a', { class: 'back-link', href: '#/playbooks' }, icon('arrowLeft'), 'Playbooks'), err, loading('Loading playbook…'));
  replace(root, container);

  let latest;
  let shown;
  let stats = null;
  try {
    latest = await api.get(`/api/playbooks/${seg(id)}`, { signal: ctx.signal });
    shown = wanted && wanted !== latest.version ? await api.get(`/api/playbooks/${seg(id)}`, { query: { version: wanted }, signal: ctx.signal }) : latest;
    stats = await api.get(`/api/playbooks/${seg(id)}/stats`, { signal: ctx.signal }).catch((e) => {
      if (e.name === 'AbortError') throw e;
      return null; // usage numbers are nice to have, never a reason to fail the page
    });
  } catch (e) {
    if (!ctx.alive() || e.name === 'AbortError') return;
    container.lastChild.remove();
    showApiError(err, e);
    return;
  }
  if (!ctx.alive()) return;

  const flash = takeFlash();
  const body = h('div', { class: 'stack' });
  const editBtn = h('button', { type: 'button', class: 'btn', 'data-testid': 'edit-playbook' }, 'Edit');
  const draftBtn = h('button', { type: 'button', class: 'btn', 'data-testid': 'edit-as-draft' }, h('span', { class: 'btn-label' }, 'Edit as draft'));
  const compare = latest.version > 1
    ? h('a', { class: 'btn btn-ghost', 'data-testid': 'compare-versions', href: `#/playbooks/${seg(id)}/diff?from=${shown.version > 1 ? shown.version - 1 : 1}&to=${shown.version > 1 ? shown.version : 2}&latest=${latest.version}` }, 'Compare versions')
    : null;
  draftBtn.addEventListener('click', async () => {
    const restore = setBusy(draftBtn, 'Starting draft…');
    try {
      const draft = await api.post('/api/playbook-drafts', { playbook_id: id });
      navigate(`/playbooks/drafts/${seg(draft.draft_id)}`);
    } catch (e) {
      restore();
      showApiError(err, e);
    }
  });
  const deactivateBtn = h('button', { type: 'button', class: 'btn btn-danger-ghost', 'data-testid': 'deactivate-playbook', disabled: latest.active === false }, latest.active === false ? 'Deactivated' : 'Deactivate');
  const confirmBox = h('div', { class: 'confirm', hidden: true, role: 'group', 'aria-label': 'Confirm deactivation' });

  const header = h(
    'section',
    { class: 'card detail-header' },
    h(
      'div',
      { class: 'detail-title' },
      h(
        'div',
        {},
        h('p', { class: 'eyebrow mono' }, shown.playbook_id),
        h('h1', { tabindex: '-1' }, shown.name, ' ', h('span', { class: 'version', 'data-testid': 'playbook-detail-version' }, String(shown.version))),
        shown.description ? h('p', { class: 'detail-summary' }, shown.description) : null,
      ),
      h('div', { class: 'title-badges' }, activeBadge(latest.active), draftBtn, editBtn, compare, deactivateBtn),
    ),
    confirmBox,
    h(
      'dl',
      { class: 'meta-grid' },
      h('div', { class: 'meta-item' }, h('dt', {}, 'Created'), h('dd', { title: formatDateTime(shown.created_at) }, formatShort(shown.created_at))),
      h('div', { class: 'meta-item' }, h('dt', {}, 'By'), h('dd', {}, shown.created_by || '—')),
      h('div', { class: 'meta-item' }, h('dt', {}, 'Priority'), h('dd', {}, String((shown.conditions && shown.conditions.priority) ?? 0))),
    ),
    versionNav(id, latest.version, shown.version),
    shown.version !== latest.version
      ? h('p', { class: 'notice' }, `You are viewing version ${shown.version}. The latest is version ${latest.version}; exceptions started on this version stay on it.`)
      : null,
  );

  const showView = () => {
    replace(body, h('div', { class: 'pb-columns' }, h('div', { class: 'stack' }, stepsCard(shown)), h('div', { class: 'stack' }, conditionsCard(shown), statsCard(stats))));
  };

  editBtn.addEventListener('click', () => {
    editBtn.disabled = true;
    replace(
      body,
      h(
        'section',
        { class: 'card' },
        h('div', { class: 'card-head' }, h('h2', {}, `Edit: saves version ${latest.version + 1}`)),
        playbookEditor({
          mode: 'edit',
          playbookId: id,
          initial: editableBody(latest),
          onDraftSaved: (draft) => navigate(`/playbooks/drafts/${seg(draft.draft_id)}`),
          onSaved: (pb) => {
            invalidatePlaybooks();
            setFlash(`Saved version ${pb.version}.`);
            navigate(`/playbooks/${seg(id)}`);
          },
          onCancel: () => {
            editBtn.disabled = false;
            showView();
            editBtn.focus();
          },
        }),
      ),
    );
    const textarea = body.querySelector('textarea');
    textarea.setSelectionRange(0, 0);
    textarea.focus();
    textarea.scrollTop = 0;
  });

  deactivateBtn.addEventListener('click', () => {
    // Inline confirmation instead of window.confirm: keyboard- and automation-friendly.
    const yes = h('button', { type: 'button', class: 'btn btn-danger', 'data-testid': 'confirm-deactivate' }, h('span', { class: 'btn-label' }, 'Deactivate playbook'));
    const no = h('button', { type: 'button', class: 'btn btn-ghost' }, 'Cancel');
    replace(confirmBox, h('p', {}, 'Deactivate this playbook? It will never be matched again. Running exceptions and history are kept.'), h('div', { class: 'form-actions' }, yes, no));
    confirmBox.hidden = false;
    yes.focus();
    no.addEventListener('click', () => {
      confirmBox.hidden = true;
      deactivateBtn.focus();
    });
    yes.addEventListener('click', async () => {
      const restore = setBusy(yes, 'Deactivating…');
      try {
        await api.del(`/api/playbooks/${seg(id)}`);
        invalidatePlaybooks();
        setFlash('Playbook deactivated.');
        navigate(`/playbooks/${seg(id)}`);
        announce('Playbook deactivated');
      } catch (e) {
        restore();
        showApiError(err, e);
      }
    });
  });

  replace(
    container,
    container.firstChild,
    err,
    flash ? h('p', { class: 'banner banner-success', role: 'status' }, icon('check'), flash) : null,
    header,
    body,
  );
  showView();
  header.querySelector('h1')?.focus({ preventScroll: true });
}
