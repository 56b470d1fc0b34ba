// Token storage and display-only claims. The server verifies tokens; the UI only
// decodes the payload to show who is signed in and to notice expiry early.
import { config } from './config.js';

const TOKEN_KEY = 'id_token';
const STATE_KEY = 'oauth_state';
const RETURN_KEY = 'return_to';

function decodePayload(token) {
  try {
    const part = token.split('.')[1];
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

export function getToken() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) return null;
  const claims = decodePayload(token);
  // An expired token would only produce 401s; drop it now so we go straight to sign-in.
  if (claims && typeof claims.exp === 'number' && claims.exp * 1000 < Date.now()) {
    sessionStorage.removeItem(TOKEN_KEY);
    return null;
  }
  return token;
}

export function setToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
}

function toList(value) {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === 'string') return value.split(/[,\s]+/).filter(Boolean);
  return [];
}

/** {username, tenant, roles} for the header; tolerant of Cognito and local claim names. */
export function currentUser() {
  const token = getToken();
  if (!token) return null;
  const c = decodePayload(token) || {};
  return {
    username: c['cognito:username'] || c.username || c.email || c.sub || 'unknown',
    tenant: c['custom:tenant_id'] || c.tenant_id || '—',
    roles: toList(c['cognito:groups'] ?? c.roles ?? c.groups),
  };
}

/** Where to go after signing in (the page that bounced us to sign-in). */
export function rememberReturn(hash) {
  if (hash && !hash.startsWith('#/signin')) sessionStorage.setItem(RETURN_KEY, hash);
}

export function takeReturn() {
  const value = sessionStorage.getItem(RETURN_KEY);
  sessionStorage.removeItem(RETURN_KEY);
  return value || '#/exceptions';
}

function randomString() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function cognitoBase(cognito) {
  const domain = String(cognito.domain || '').replace(/\/+$/, '');
  if (/^https:\/\//.test(domain)) return domain;
  if (domain.includes('.')) return `https://${domain}`;
  // A bare prefix: the Cognito-hosted domain of that region.
  return `https://${domain}.auth.${cognito.region}.amazoncognito.com`;
}

function redirectUri() {
  return `${window.location.origin}${window.location.pathname}`;
}

/** Deployed mode: go to the Cognito hosted UI (implicit flow, id_token in the fragment). */
export function startHostedSignIn() {
  const { cognito } = config();
  const state = randomString();
  sessionStorage.setItem(STATE_KEY, state);
  const params = new URLSearchParams({
    response_type: 'token',
    client_id: cognito.clientId,
    redirect_uri: redirectUri(),
    scope: 'openid email profile',
    state,
  });
  window.location.assign(`${cognitoBase(cognito)}/oauth2/authorize?${params}`);
}

/**
 * Handles the hosted UI's redirect back (#id_token=...&state=...). Returns
 * {handled, error}. Runs before the router so the token never reaches routing.
 */
export function consumeRedirectFragment() {
  const hash = window.location.hash.slice(1);
  if (!/(^|&)(id_token|error)=/.test(hash)) return { handled: false };
  const params = new URLSearchParams(hash);
  const expected = sessionStorage.getItem(STATE_KEY);
  sessionStorage.removeItem(STATE_KEY);
  let error = params.get('error_description') || params.get('error');
  const token = params.get('id_token');
  if (!error && token) {
    // The state check stops a forged redirect from planting someone else's token.
    if (!expected || params.get('state') !== expected) error = 'Sign-in response did not match this browser session.';
    else setToken(token);
  }
  const target = error ? '#/signin' : takeReturn();
  window.history.replaceState(null, '', `${window.location.pathname}${window.location.search}${target}`);
  return { handled: true, error };
}
