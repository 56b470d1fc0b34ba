// REST client: bearer token, JSON in/out, errors as ApiError carrying the server's
// {code, message, details}. A 401 anywhere sends the user back to sign-in.
import { config } from './config.js';
import { getToken } from './auth.js';

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details || null;
  }

  /** The 422 problem list: [{path, message}]. */
  get fieldErrors() {
    const errors = this.details && Array.isArray(this.details.errors) ? this.details.errors : [];
    return errors.map((e) => ({ path: String(e.path ?? ''), message: String(e.message ?? '') }));
  }
}

let onUnauthorized = () => {};

export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

function buildUrl(path, query) {
  const url = `${config().apiBaseUrl}${path}`;
  if (!query) return url;
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    // A list is sent as a repeated parameter (?status=open&status=escalated).
    if (Array.isArray(v)) for (const one of v) qs.append(k, String(one));
    else if (v !== null && v !== undefined && v !== '') qs.set(k, String(v));
  }
  const s = qs.toString();
  return s ? `${url}?${s}` : url;
}

const STATUS_TEXT = {
  403: 'You are not allowed to do this.',
  404: 'Not found.',
  409: 'That conflicts with the current state; refresh and try again.',
  413: 'The request is too large.',
  422: 'The request is not valid.',
  503: 'The service is busy or unavailable. Nothing was changed; please retry.',
};

export async function request(method, path, { query, body, headers = {}, signal } = {}) {
  const token = getToken();
  const init = { method, headers: { Accept: 'application/json', ...headers }, signal };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(buildUrl(path, query), init);
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'NETWORK', 'Could not reach the server. Check your connection and retry.');
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (res.ok) return data;
  if (res.status === 401) onUnauthorized();
  const code = (data && data.code) || `HTTP_${res.status}`;
  const message = (data && data.message) || STATUS_TEXT[res.status] || `The server answered ${res.status}.`;
  throw new ApiError(res.status, code, message, data && data.details);
}

export const api = {
  get: (path, opts) => request('GET', path, opts),
  post: (path, body, opts = {}) => request('POST', path, { ...opts, body }),
  put: (path, body, opts = {}) => request('PUT', path, { ...opts, body }),
  patch: (path, body, opts = {}) => request('PATCH', path, { ...opts, body }),
  del: (path, opts) => request('DELETE', path, opts),
};

/** Encodes one path segment (ids are safe already, but never trust that). */
export const seg = (value) => encodeURIComponent(String(value));

/** A random UUID per user action, for Idempotency-Key. */
export function newIdempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Follows next_cursor until done (bounded, so a server bug cannot loop us forever). */
export async function fetchAll(path, query, { signal, maxPages = 50 } = {}) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < maxPages; page += 1) {
    const data = await api.get(path, { query: { ...query, cursor }, signal });
    items.push(...((data && data.items) || []));
    cursor = data && data.next_cursor;
    if (!cursor) break;
  }
  return items;
}
