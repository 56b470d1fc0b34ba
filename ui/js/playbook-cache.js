// Playbook names by id for list/detail labels (records only carry ids).
// Cached briefly: names change rarely and a stale label is harmless.
import { api } from './api.js';

let cache = null;
let fetchedAt = 0;
const TTL_MS = 60_000;

export async function playbookIndex({ signal, fresh = false } = {}) {
  if (!fresh && cache && Date.now() - fetchedAt < TTL_MS) return cache;
  try {
    const data = await api.get('/api/playbooks', { signal });
    cache = new Map(((data && data.items) || []).map((p) => [p.playbook_id, p]));
    fetchedAt = Date.now();
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    cache = cache || new Map();
  }
  return cache;
}

export function invalidatePlaybooks() {
  cache = null;
}
