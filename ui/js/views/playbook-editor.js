// #/playbooks/new: create a playbook from JSON.
import { h, replace, icon } from '../dom.js';
import { api as client, seg } from '../api.js';
import { navigate } from '../router.js';
import { playbookEditor, starterTemplate } from '../components/playbook-editor.js';
import { invalidatePlaybooks } from '../playbook-cache.js';
import { setFlash } from './flash.js';

export async function render(root, ctx) {
  // A starter for the tenant's own domain: the domain and type of its most recent exception.
  let initial = starterTemplate('', '');
  try {
    const recent = await client.get('/api/exceptions', { query: { limit: 1 }, signal: ctx && ctx.signal });
    const latest = recent && recent.items && recent.items[0];
    if (latest) initial = starterTemplate(latest.domain, latest.exception_type);
  } catch (e) {
    if (e.name === 'AbortError') return;
  }
  if (ctx && !ctx.alive()) return;
  replace(
    root,
    h(
      'div',
      { class: 'container' },
      h('a', { class: 'back-link', href: '#/playbooks' }, icon('arrowLeft'), 'Playbooks'),
      h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, 'New playbook')),
      h(
        'section',
        { class: 'card' },
        playbookEditor({
          mode: 'create',
          initial,
          onDraftSaved: (draft) => navigate(`/playbooks/drafts/${seg(draft.draft_id)}`),
          onSaved: (pb) => {
            invalidatePlaybooks();
            setFlash(`Created “${pb.name}” (version ${pb.version}).`);
            navigate(`/playbooks/${seg(pb.playbook_id)}`);
          },
          onCancel: () => navigate('/playbooks'),
        }),
      ),
    ),
  );
  const textarea = root.querySelector('textarea');
  // Start at the top of the document, not where setting the value left the caret.
  textarea.setSelectionRange(0, 0);
  textarea.focus();
  textarea.scrollTop = 0;
}
