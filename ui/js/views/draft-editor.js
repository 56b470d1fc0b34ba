// #/playbooks/drafts/{id}: edit a draft (never matched), see its lint, simulate with it, preview
// its impact, compare it with its base, publish or discard it.
import { h, replace, icon } from '../dom.js';
import { api, seg } from '../api.js';
import { navigate } from '../router.js';
import { errorSlot, showApiError, setBusy, loading, announce, loadView } from '../components/feedback.js';
import { playbookEditor } from '../components/playbook-editor.js';
import { simulateBox } from '../components/simulate.js';
import { impactCard, diffView } from '../components/authoring.js';
import { invalidatePlaybooks } from '../playbook-cache.js';
import { setFlash } from './flash.js';

export async function render(root, ctx) {
  const id = ctx.params.id;
  const err = errorSlot();
  const container = h('div', { class: 'container' }, h('a', { class: 'back-link', href: '#/playbooks' }, icon('arrowLeft'), 'Playbooks'), err, loading('Loading draft…'));
  replace(root, container);
  const draft = await loadView(ctx, container, err, () => api.get(`/api/playbook-drafts/${seg(id)}`, { signal: ctx.signal }));
  if (!draft) return;

  let revision = draft.revision;
  const publish = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'draft-publish' }, h('span', { class: 'btn-label' }, 'Publish'));
  const discard = h('button', { type: 'button', class: 'btn btn-danger-ghost', 'data-testid': 'draft-discard' }, h('span', { class: 'btn-label' }, 'Discard draft'));
  const diffButton = h('button', { type: 'button', class: 'btn', 'data-testid': 'draft-diff' }, h('span', { class: 'btn-label' }, draft.playbook_id ? `Compare with v${draft.base_version}` : 'Show as diff'));
  const diffHost = h('div', { 'aria-live': 'polite' });
  const status = h('p', { class: 'muted', 'data-testid': 'draft-status' }, `Revision ${revision} · not live: matching and agents never see a draft`);

  const editor = playbookEditor({
    mode: 'draft',
    playbookId: draft.playbook_id,
    initial: draft.body,
    saveLabel: 'Save draft',
    saveTestId: 'draft-save',
    onSubmit: (doc) => api.put(`/api/playbook-drafts/${seg(id)}`, { playbook: doc, revision }),
    onSaved: (saved) => {
      dirty = false;
      revision = saved.revision;
      status.textContent = `Revision ${revision} saved · not live: matching and agents never see a draft`;
      editor.showFindings(saved.lint);
      announce('Draft saved');
    },
    extraActions: [publish, diffButton, discard],
  });
  editor.showFindings(draft.lint);
  // Simulate, preview and publish act on the draft being edited: unsaved text is saved first.
  let dirty = false;
  editor.editor.textarea.addEventListener('input', () => {
    dirty = true;
  });
  const saveIfEdited = async () => {
    if (!dirty) return;
    const doc = editor.documentOrError();
    if (!doc) throw new Error('Fix the JSON first.');
    const saved = await api.put(`/api/playbook-drafts/${seg(id)}`, { playbook: doc, revision });
    revision = saved.revision;
    dirty = false;
    status.textContent = `Revision ${revision} saved · not live: matching and agents never see a draft`;
    editor.showFindings(saved.lint);
  };

  publish.addEventListener('click', async () => {
    const restore = setBusy(publish, 'Publishing…');
    try {
      await saveIfEdited();
      const res = await api.post(`/api/playbook-drafts/${seg(id)}/publish`, { revision });
      invalidatePlaybooks();
      setFlash(`Published “${res.playbook.name}” as version ${res.playbook.version}.`);
      navigate(`/playbooks/${seg(res.playbook.playbook_id)}`);
    } catch (e) {
      restore();
      showApiError(editor.errorSlot, e, { withProblems: false });
      if (e.details && Array.isArray(e.details.findings)) {
        const findings = e.details.findings;
        const errors = findings.filter((f) => f.severity === 'error').length;
        editor.showFindings({ ok: false, errors, warnings: findings.length - errors, findings });
      }
    }
  });
  discard.addEventListener('click', async () => {
    const restore = setBusy(discard, 'Discarding…');
    try {
      await api.del(`/api/playbook-drafts/${seg(id)}`);
      setFlash('Draft discarded.');
      navigate(draft.playbook_id ? `/playbooks/${seg(draft.playbook_id)}` : '/playbooks');
    } catch (e) {
      restore();
      showApiError(editor.errorSlot, e);
    }
  });
  diffButton.addEventListener('click', async () => {
    const restore = setBusy(diffButton, 'Comparing…');
    try {
      replace(diffHost, h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', {}, 'Changes in this draft (saved revision)')), diffView(await api.get(`/api/playbook-drafts/${seg(id)}/diff`))));
    } catch (e) {
      showApiError(editor.errorSlot, e);
    } finally {
      restore();
    }
  });

  const domain = draft.body && draft.body.conditions && draft.body.conditions.match ? draft.body.conditions.match.domain : '';
  replace(
    container,
    container.firstChild,
    err,
    h(
      'div',
      { class: 'page-head' },
      h('div', {}, h('p', { class: 'eyebrow mono' }, id), h('h1', { tabindex: '-1' }, 'Draft: ', draft.body.name, ' ', h('span', { class: 'badge warning', 'data-testid': 'draft-badge' }, 'draft')), status),
      draft.playbook_id ? h('a', { href: `#/playbooks/${seg(draft.playbook_id)}`, class: 'btn btn-ghost' }, `Live: ${draft.playbook_id} v${draft.base_version}`) : null,
    ),
    h('section', { class: 'card' }, editor),
    diffHost,
    h('div', { class: 'pb-columns' }, h('div', { class: 'stack' }, impactCard(id, { before: saveIfEdited })), h('div', { class: 'stack' }, simulateBox({ domain, endpoint: `/api/playbook-drafts/${seg(id)}/simulate`, title: 'Simulate with this draft', before: saveIfEdited }))),
  );
  container.querySelector('h1')?.focus({ preventScroll: true });
}
