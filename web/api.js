// The engine's HTTP API (docs/http-api.md): the token, requests, and the EventSources.
// Paths are relative ('api/v1/...'), so the page works behind a proxy that mounts it in a folder.

const TOKEN_KEY = 'tandem.token';

let memToken = '';
function storedToken() {
  try { return localStorage.getItem(TOKEN_KEY) || ''; } catch (e) { return ''; }
}
export function storeToken(t) {
  try {
    if (t) localStorage.setItem(TOKEN_KEY, t);
    else localStorage.removeItem(TOKEN_KEY);
  } catch (e) { /* private mode: the token lives until the page closes */ }
  memToken = t;
}
export function token() { return storedToken() || memToken; }

// ?token=SECRET in the address is kept, then taken out of it (and out of the history).
export function takeTokenFromUrl() {
  const url = new URL(location.href);
  if (!url.searchParams.has('token')) return;
  storeToken(url.searchParams.get('token') || '');
  url.searchParams.delete('token');
  history.replaceState(null, '', url.pathname + url.search + url.hash);
}

let unauthorized = () => {};
// What to do when the engine answers 401 (app.js asks for a token).
export function onUnauthorized(fn) {
  unauthorized = fn;
}

// An EventSource cannot send headers: it passes the token in the query.
export function eventSource(path) {
  const t = token();
  return new EventSource(t ? path + (path.includes('?') ? '&' : '?') + 'access_token=' + encodeURIComponent(t) : path);
}

// Resolves to {ok, status, data, message}; never throws.
export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  const t = token();
  if (t) headers.Authorization = 'Bearer ' + t;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  } catch (e) {
    return { ok: false, status: 0, data: null, message: 'the engine cannot be reached (' + e.message + ')' };
  }
  let data = null;
  const text = await res.text().catch(() => '');
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = text; }
  if (res.status === 401) unauthorized();
  if (res.ok) return { ok: true, status: res.status, data, message: '' };
  const message = (data && data.error && data.error.message) || (typeof data === 'string' && data) || res.statusText || 'HTTP ' + res.status;
  return { ok: false, status: res.status, data, message };
}

export const servicePath = (service, what) => 'api/v1/services/' + encodeURIComponent(service) + '/' + what;
