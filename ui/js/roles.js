// What the signed-in person may do, from the roles in their token (API.md "Roles").
// The UI only offers actions the role allows; the server checks again on every request.
import { currentUser } from './auth.js';

const OPERATE = ['operator', 'admin'];

function roles() {
  const user = currentUser();
  return new Set((user && user.roles) || []);
}

function any(allowed) {
  const mine = roles();
  return allowed.some((r) => mine.has(r));
}

/** Patch, comment, recalculate, complete and skip steps as themselves, bulk actions. */
export const canOperate = () => any(OPERATE);
/** Create exceptions (automation creates them too). */
export const canCreate = () => any([...OPERATE, 'automation']);
/** Author playbooks and packs. */
export const canAuthor = () => any(['admin']);

export function username() {
  const user = currentUser();
  return user ? user.username : '';
}
