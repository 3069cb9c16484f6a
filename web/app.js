// tandem's web page: the engine's services, their logs, actions and (under shipper) its
// releases, live from the HTTP API (docs/http-api.md). Plain JavaScript modules, no build
// step: the engine compiles web/* into its binary and serves each file by its name; this one,
// /app.js, is the page's entry (index.html loads it as a module) and wires the others:
//
//   page.js      what they share: the last status, actions under way, builds, tandemStats
//   html.js      the html`...` tag: the one way markup is made, every value escaped
//   format.js    ids, digests, times, durations
//   api.js       the token, requests and EventSources
//   dialogs.js   the token prompt, confirmations, toasts
//   actions.js   whether an action is allowed, its button, running it
//   services.js  the header, the services table and the action hints
//   release.js   shipper's release bar, history and audit trail
//   logs.js      the log pane (virtual scrolling)
//   feed.js      the activity feed
//
// Live data comes from two EventSources and nothing polls: /api/v1/events (`status` carries
// the whole status document, `runtime` single events) and the selected service's log stream.
// Tests read window.tandemStats and the data-testid attributes.
import { $, page, building, stats, setRenderer } from './page.js';
import { api, eventSource, storeToken, takeTokenFromUrl, onUnauthorized } from './api.js';
import { askForToken, onTokenEntered } from './dialogs.js';
import { runAction, rollbackTo } from './actions.js';
import { renderHeader, renderRows, renderHints, markSelectedRow } from './services.js';
import { renderRelease, forgetReleaseData } from './release.js';
import { selectService, selectedService, reopenLogs, renderLog, syncLogSelect } from './logs.js';
import { addFeed } from './feed.js';
import { ago, until } from './format.js';

takeTokenFromUrl();
onUnauthorized(askForToken);
onTokenEntered((t) => {
  storeToken(t);
  reconnectAll();
});

function render() {
  const status = page.status;
  if (!status) return;
  const t0 = performance.now();
  renderHeader();
  renderRelease();
  renderRows();
  renderHints();
  syncLogSelect((status.services || []).map((s) => s.name));
  const ms = performance.now() - t0;
  stats.renderMs = ms;
  stats.renders++;
  if (stats.firstFullRenderMs === null && status.services.length && stats.rows === status.services.length) {
    stats.firstFullRenderMs = ms;
    stats.firstFullRenderAt = performance.now();
    // After the frame that shows it: style, layout and paint included.
    requestAnimationFrame(() => setTimeout(() => { stats.firstFullPaintAt = performance.now(); }, 0));
  }
}
setRenderer(render);

function select(name) {
  if (selectService(name)) markSelectedRow(name);
}

function applyStatus(doc) {
  if (!doc || !Array.isArray(doc.services)) return;
  page.status = doc;
  render();
  if (!selectedService() && doc.services.length) {
    // The one asked for in the URL, else the first that is failing (its logs say why), else the first.
    const wanted = decodeURIComponent((location.hash.match(/logs=([^&]+)/) || [])[1] || '');
    const failing = doc.services.find((s) => s.state === 'crashed' || s.state === 'degraded');
    select(doc.services.some((s) => s.name === wanted) ? wanted : (failing || doc.services[0]).name);
  }
}

// One listener for the clicks in the table, the header, the feed and the history.
document.addEventListener('click', (e) => {
  const btn = e.target.closest('button[data-action]');
  if (btn && !btn.disabled) {
    e.preventDefault();
    runAction(btn.dataset.action, btn.dataset.service || null);
    return;
  }
  const sel = e.target.closest('[data-select]');
  if (sel) {
    select(sel.dataset.select);
    return;
  }
  const rb = e.target.closest('button[data-rollback]');
  if (rb && !rb.disabled) rollbackTo(rb.dataset.rollback);
});
$('log-service').addEventListener('change', (e) => select(e.target.value));

// ---- the events stream -----------------------------------------------------------------

let events = null;
let retryTimer = 0;
function setConn(state, text) {
  const el = $('conn');
  el.dataset.state = state;
  el.querySelector('span').textContent = text || state;
}

// Offline for want of a token: the connection chip opens the prompt again.
$('conn').addEventListener('click', () => {
  if ($('conn').dataset.state === 'offline') askForToken();
});

function connectEvents() {
  clearTimeout(retryTimer);
  if (events) events.close();
  const src = eventSource('api/v1/events');
  events = src;
  src.addEventListener('open', () => {
    setConn('live');
    building.clear(); // a build's end may have been missed while away: the status says
  });
  src.addEventListener('status', (e) => {
    setConn('live');
    try { applyStatus(JSON.parse(e.data)); } catch (err) { console.error('tandem: a bad status event', err); }
  });
  src.addEventListener('runtime', (e) => {
    try { addFeed(JSON.parse(e.data)); } catch (err) { /* not JSON: skip */ }
  });
  src.addEventListener('error', async () => {
    if (events !== src) return;
    if (src.readyState !== EventSource.CLOSED) {
      setConn('reconnecting');
      return;
    }
    setConn('offline');
    const r = await api('GET', 'api/v1/status'); // why: a 401 opens the token prompt
    if (events !== src) return;
    if (r.ok) applyStatus(r.data);
    if (r.status !== 401) retryTimer = setTimeout(connectEvents, 3000);
    else setConn('offline', 'token needed — click to enter');
  });
}

function reconnectAll() {
  connectEvents();
  reopenLogs();
  forgetReleaseData();
  if (page.status) render();
}

// Relative times ("3s ago", the revert window) move on their own; the data does not.
setInterval(() => {
  for (const el of document.querySelectorAll('[data-time]')) {
    const text = ago(el.dataset.time);
    if (el.textContent !== text) el.textContent = text;
  }
  for (const el of document.querySelectorAll('[data-until]')) {
    if (Date.parse(el.dataset.until) <= Date.now()) {
      const pill = el.closest('.pill');
      if (pill) pill.remove();
    } else el.textContent = until(el.dataset.until);
  }
}, 1000);

// ---- start -----------------------------------------------------------------------------

(async function start() {
  const r = await api('GET', 'api/v1/status');
  if (r.ok) applyStatus(r.data);
  else if (r.status !== 401) setConn('offline', r.message);
  connectEvents();
  renderLog();
})();
