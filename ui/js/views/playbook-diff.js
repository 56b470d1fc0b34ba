// #/playbooks/{id}/diff?from=N&to=M: two versions side by side.
import { h, replace, icon } from '../dom.js';
import { api, seg } from '../api.js';
import { navigate } from '../router.js';
import { errorSlot, loading, loadView } from '../components/feedback.js';
import { diffView } from '../components/authoring.js';

function versionSelect(label, value, latest, testid) {
  const select = h('select', { 'data-testid': testid, 'aria-label': label });
  for (let v = latest; v >= 1; v -= 1) select.append(h('option', { value: String(v), selected: v === value }, `v${v}`));
  return h('label', { class: 'inline-field' }, `${label} `, select);
}

export async function render(root, ctx) {
  const id = ctx.params.id;
  const err = errorSlot();
  const container = h('div', { class: 'container' }, h('a', { class: 'back-link', href: `#/playbooks/${seg(id)}` }, icon('arrowLeft'), 'Playbook'), err, loading('Comparing…'));
  replace(root, container);
  const query = { from_version: ctx.query.from || undefined, to_version: ctx.query.to || undefined };
  const diff = await loadView(ctx, container, err, () => api.get(`/api/playbooks/${seg(id)}/diff`, { query, signal: ctx.signal }));
  if (!diff) return;
  const latest = Math.max(diff.to.version, diff.from.version, Number(ctx.query.latest) || 0);
  const from = versionSelect('From', diff.from.version, latest, 'diff-from');
  const to = versionSelect('To', diff.to.version, latest, 'diff-to');
  const go = () => navigate(`/playbooks/${seg(id)}/diff`, { from: from.querySelector('select').value, to: to.querySelector('select').value, latest });
  from.querySelector('select').addEventListener('change', go);
  to.querySelector('select').addEventListener('change', go);
  replace(
    container,
    container.firstChild,
    err,
    h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, `Compare versions of ${diff.to.document.name}`), h('div', { class: 'page-actions' }, from, to)),
    h('section', { class: 'card' }, diffView(diff)),
  );
}
