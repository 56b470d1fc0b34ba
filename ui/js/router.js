// Hash router. Each view is `render(root, ctx)`; ctx carries route params and a
// lifecycle so timers, polls and in-flight requests die with the view.

let routes = [];
let guard = () => null;
let afterRender = () => {};
let active = null;
let rootEl = null;

export function parseHash(hash = window.location.hash) {
  const raw = hash.replace(/^#/, '') || '/';
  const q = raw.indexOf('?');
  const path = q === -1 ? raw : raw.slice(0, q);
  const query = Object.fromEntries(new URLSearchParams(q === -1 ? '' : raw.slice(q + 1)));
  return { path, query };
}

function buildHash(path, query) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query || {})) if (v !== null && v !== undefined && v !== '') qs.set(k, String(v));
  const s = qs.toString();
  return `#${path}${s ? `?${s}` : ''}`;
}

export function navigate(path, query) {
  const target = buildHash(path, query);
  if (window.location.hash === target) render();
  else window.location.hash = target;
}

/** Updates the query in the address bar without re-rendering (filters, paging). */
export function replaceQuery(query) {
  const { path } = parseHash();
  window.history.replaceState(null, '', buildHash(path, query));
}

function teardown() {
  if (!active) return;
  active.alive = false;
  active.controller.abort();
  for (const fn of active.cleanups.splice(0)) {
    try {
      fn();
    } catch {
      /* a failing cleanup must not block the next view */
    }
  }
  active = null;
}

function makeContext(params, query, path) {
  const state = { alive: true, controller: new AbortController(), cleanups: [] };
  active = state;
  return {
    params,
    query,
    path,
    signal: state.controller.signal,
    alive: () => state.alive,
    onCleanup: (fn) => state.cleanups.push(fn),
    every(ms, fn) {
      const t = window.setInterval(fn, ms);
      state.cleanups.push(() => window.clearInterval(t));
      return t;
    },
    later(ms, fn) {
      const t = window.setTimeout(() => state.alive && fn(), ms);
      state.cleanups.push(() => window.clearTimeout(t));
      return t;
    },
  };
}

export async function render() {
  const { path, query } = parseHash();
  const redirect = guard(path);
  if (redirect) {
    navigate(redirect);
    return;
  }
  teardown();
  let match = null;
  for (const route of routes) {
    const m = route.pattern.exec(path);
    if (m) {
      const params = {};
      (route.keys || []).forEach((key, i) => {
        params[key] = decodeURIComponent(m[i + 1]);
      });
      match = { route, params };
      break;
    }
  }
  if (!match) {
    navigate('/exceptions');
    return;
  }
  const ctx = makeContext(match.params, query, path);
  rootEl.replaceChildren();
  afterRender(path, match.route);
  try {
    await match.route.view(rootEl, ctx);
  } catch (err) {
    if (err && err.name === 'AbortError') return;
    // A view that throws must still leave a usable page.
    console.error(err);
  }
}

export function startRouter(options) {
  ({ routes, guard, afterRender } = options);
  rootEl = options.root;
  window.addEventListener('hashchange', render);
  return render();
}
