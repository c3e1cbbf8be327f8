// @ts-check
// Where the page gets its user: an access token handed over in the URL fragment, the way
// Supabase Auth's implicit flow hands one back. Locally there is no Auth server, so the token comes
// from `movement-profiles dev token`; on a hosted project it would come from supabase.auth.

/**
 * @typedef {object} Session
 * @property {string} accessToken  The user's JWT, sent as `Authorization: Bearer ...`.
 * @property {string} apiUrl       The project URL (the gateway), e.g. http://127.0.0.1:54321.
 * @property {string} anonKey      The project's anon (publishable) key, sent as `apikey`.
 * @property {string} userId       The token's `sub`: the auth user the profile belongs to.
 * @property {number} expiresAt    The token's `exp`, in seconds since the epoch.
 */

// sessionStorage, not localStorage: the token lives as long as the tab, and a reload keeps it.
const STORAGE_KEY = 'movement-profiles.session';

/**
 * Claims of a JWT, decoded without verifying: the gateway and PostgREST verify it on every call;
 * the page only needs to know whose profile to ask for and when to stop trying.
 * @param {string} token
 * @returns {{ sub?: string, exp?: number, role?: string }}
 */
export function decodeClaims(token) {
  const payload = token.split('.')[1];
  if (!payload) throw new Error('not a JWT');
  const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
  const json = new TextDecoder().decode(
    Uint8Array.from(atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, '=')), (c) =>
      c.charCodeAt(0),
    ),
  );
  return JSON.parse(json);
}

/**
 * The session from the URL fragment (which is then removed from the address bar, so the token
 * does not linger in history or screenshots) or, after a reload, from sessionStorage.
 * @param {{ apiUrl: string, anonKey: string }} defaults  The values the page was built with.
 * @returns {{ session: Session } | { problem: string }}
 */
export function readSession(defaults) {
  const fragment = new URLSearchParams(window.location.hash.replace(/^#/, ''));
  if (fragment.has('access_token')) {
    const handedOver = {
      accessToken: fragment.get('access_token') ?? '',
      apiUrl: fragment.get('api_url') ?? defaults.apiUrl,
      anonKey: fragment.get('anon_key') ?? defaults.anonKey,
    };
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(handedOver));
    history.replaceState(null, '', window.location.pathname + window.location.search);
  }
  const stored = sessionStorage.getItem(STORAGE_KEY);
  if (!stored) return { problem: 'You are not signed in.' };

  /** @type {{ accessToken: string, apiUrl: string, anonKey: string }} */
  const { accessToken, apiUrl, anonKey } = JSON.parse(stored);
  if (!apiUrl || !anonKey) {
    return { problem: 'The page does not know the API: pass api_url and anon_key too.' };
  }
  let claims;
  try {
    claims = decodeClaims(accessToken);
  } catch {
    return { problem: 'The access token is not a valid JWT.' };
  }
  if (!claims.sub) return { problem: 'The access token names no user (no sub claim).' };
  const expiresAt = claims.exp ?? 0;
  if (expiresAt * 1000 <= Date.now()) {
    return { problem: 'Your session has expired: open the page with a fresh token.' };
  }
  return { session: { accessToken, apiUrl, anonKey, userId: claims.sub, expiresAt } };
}

export function forgetSession() {
  sessionStorage.removeItem(STORAGE_KEY);
}
