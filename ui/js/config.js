// Runtime configuration. A deployed bucket ships config.json next to index.html;
// without it (the local stack) the API is on the same origin and sign-in is local.

const LOCAL = { apiBaseUrl: '', cognito: null, local: true };

let current = LOCAL;

export async function loadConfig() {
  try {
    const res = await fetch('config.json', { cache: 'no-store', credentials: 'same-origin' });
    if (!res.ok) return (current = LOCAL);
    // A server may answer unknown paths with index.html: treat non-JSON as "absent".
    const data = await res.json();
    if (!data || typeof data !== 'object') return (current = LOCAL);
    // The CDK stack writes a flat document (apiUrl, userPoolClientId, cognitoDomain, ...).
    const cognito = data.cognito || (data.userPoolClientId ? {
      domain: data.cognitoDomain,
      clientId: data.userPoolClientId,
      region: data.region,
      redirectUrl: data.redirectUrl,
      apiScope: data.apiScope,
    } : null);
    current = {
      apiBaseUrl: String(data.apiBaseUrl || data.apiUrl || '').replace(/\/+$/, ''),
      cognito: cognito && cognito.clientId ? cognito : null,
      local: data.local === true || !(cognito && cognito.clientId),
    };
  } catch {
    current = LOCAL;
  }
  return current;
}

export function config() {
  return current;
}
