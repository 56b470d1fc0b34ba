// #/playbooks/new: create a playbook from JSON.
import { h, replace, icon } from '../dom.js';
import { seg } from '../api.js';
import { navigate } from '../router.js';
import { playbookEditor } from '../components/playbook-editor.js';
import { invalidatePlaybooks } from '../playbook-cache.js';
import { setFlash } from './flash.js';

export function render(root) {
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
