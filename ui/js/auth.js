// Token storage and display-only claims. The server verifies tokens; the UI only
// decodes the payload to show who is signed in and to notice expiry early.
import { config } from './config.js';

// The bearer token's key. Deployed, it holds the Cognito ACCESS token: the API's authorizer asks
// for an access token carrying the API scope (an ID token carries no scopes), and the
// pre-token-generation trigger puts the tenant in it. The key keeps its name because the UI
// contract (UI.md) and the local stack's ID-token-shaped tokens use it.
const TOKEN_KEY = 'id_token';
// The API's OAuth scope (infra api.py: resource server "exception-playbooks", scope "api").
const DEFAULT_API_SCOPE = 'exception-playbooks/api';
const STATE_KEY = 'oauth_state';
const VERIFIER_KEY = 'oauth_pkce_verifier';
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

function base64Url(bytes) {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

async function pkceChallenge(verifier) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64Url(new Uint8Array(digest));
}

/**
 * Deployed mode: go to the Cognito hosted UI with the authorization code flow and PKCE (S256).
 * The verifier stays in this tab's sessionStorage; only its hash travels.
 */
export async function startHostedSignIn() {
  const { cognito } = config();
  const state = randomString();
  const verifier = base64Url(crypto.getRandomValues(new Uint8Array(32)));
  sessionStorage.setItem(STATE_KEY, state);
  sessionStorage.setItem(VERIFIER_KEY, verifier);
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: cognito.clientId,
    redirect_uri: redirectUri(),
    scope: `openid email profile ${cognito.apiScope || DEFAULT_API_SCOPE}`,
    state,
    code_challenge: await pkceChallenge(verifier),
    code_challenge_method: 'S256',
  });
  window.location.assign(`${cognitoBase(cognito)}/oauth2/authorize?${params}`);
}

async function exchangeCode(code, verifier) {
  const { cognito } = config();
  const response = await fetch(`${cognitoBase(cognito)}/oauth2/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: cognito.clientId,
      code,
      redirect_uri: redirectUri(),
      code_verifier: verifier,
    }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok || !body.access_token) throw new Error(body.error_description || body.error || 'Sign-in failed.');
  // The access token is the API's bearer token (see TOKEN_KEY); the ID token is not kept.
  return body.access_token;
}

/**
 * Handles the hosted UI's redirect back (?code=...&state=...): checks the state, exchanges the
 * code (with the PKCE verifier) for tokens. Returns {handled, error}. Runs before the router.
 */
export async function consumeRedirect() {
  const params = new URLSearchParams(window.location.search);
  if (!params.has('code') && !params.has('error')) return { handled: false };
  const expected = sessionStorage.getItem(STATE_KEY);
  const verifier = sessionStorage.getItem(VERIFIER_KEY);
  sessionStorage.removeItem(STATE_KEY);
  sessionStorage.removeItem(VERIFIER_KEY);
  let error = params.get('error_description') || params.get('error');
  const code = params.get('code');
  // The code leaves the address bar before anything else happens.
  window.history.replaceState(null, '', `${window.location.pathname}${window.location.hash}`);
  if (!error && code) {
    // The state check stops a forged redirect from planting someone else's session.
    if (!expected || !verifier || params.get('state') !== expected) {
      error = 'Sign-in response did not match this browser session.';
    } else {
      try {
        setToken(await exchangeCode(code, verifier));
      } catch (failure) {
        error = failure.message;
      }
    }
  }
  const target = error ? '#/signin' : takeReturn();
  window.history.replaceState(null, '', `${window.location.pathname}${target}`);
  return { handled: true, error };
}
