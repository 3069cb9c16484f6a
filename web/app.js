// tandem's web page: the engine's services, their logs, actions and (under shipper) its
// releases, live from the HTTP API (docs/http-api.md). Plain JavaScript, no build step: the
// engine compiles this file into its binary and serves it at /app.js.
//
// Live data comes from two EventSources and nothing polls: /api/v1/events (`status` carries
// the whole status document, `runtime` single events) and the selected service's log stream.
// Tests read window.tandemStats and the data-testid attributes.
(function () {
  'use strict';

  const ROW_H = 18;            // px; the same as .log-row's height in style.css
  const LOG_CAP = 200000;      // lines kept in the pane; older ones are dropped
  const LOG_TAIL = 1000;       // lines asked for when a service is selected
  const LOG_OVERSCAN = 10;     // rows rendered above and below the visible ones
  const MAX_LINE = 4000;       // characters shown of one line
  const FEED_CAP = 300;        // activity entries kept
  const TOKEN_KEY = 'tandem.token';
  const SERVICE_ACTIONS = ['trigger', 'restart', 'reset'];
  const STATES = ['building', 'starting', 'ready', 'degraded', 'crashed', 'completed', 'stopped'];

  const $ = (id) => document.getElementById(id);
  const stats = {
    renderMs: 0,             // the last status render (table, header, release bar)
    firstFullRenderMs: null, // the first render that had every service in it
    firstFullRenderAt: null, // ... and when it ended (performance.now(), from the page's start)
    firstFullPaintAt: null,  // ... and when the frame showing it was painted
    renders: 0,
    rows: 0,
    logLines: 0,             // lines in the pane
    logTotal: 0,             // lines received since the service was selected
    logRenderMs: 0,          // the last pane render (append, trim, draw the visible rows)
    logMaxRenderMs: 0,
    logRenders: 0,
    events: 0,
  };
  window.tandemStats = stats;

  // ---- small helpers ---------------------------------------------------------------------

  const ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
  const esc = (v) => String(v ?? '').replace(/[&<>"']/g, (c) => ESC[c]);
  const shortId = (c) => String(c || '').slice(0, 12);
  const shortDigest = (d) => {
    const s = String(d || '');
    const i = s.indexOf(':');
    return (i >= 0 ? s.slice(i + 1) : s).slice(0, 12);
  };
  const authorName = (a) => String(a || '').replace(/\s*<[^>]*>\s*$/, '');
  // eslint-disable-next-line no-control-regex
  const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;
  const LOG_PREFIX = /^\d{4}-\d\d-\d\dT[\d:.]+Z? \S+ (out|err)\| /;

  function ago(iso) {
    if (!iso) return '';
    const t = Date.parse(iso);
    if (Number.isNaN(t)) return '';
    let s = Math.round((Date.now() - t) / 1000);
    if (s < 0) s = 0;
    if (s < 60) return s + 's ago';
    const m = Math.floor(s / 60);
    if (m < 60) return m + 'm ago';
    const h = Math.floor(m / 60);
    if (h < 48) return h + 'h ' + (m % 60) + 'm ago';
    return Math.floor(h / 24) + 'd ago';
  }
  function until(iso) {
    const t = Date.parse(iso || '');
    if (Number.isNaN(t)) return '';
    const s = Math.max(0, Math.round((t - Date.now()) / 1000));
    return s >= 60 ? Math.floor(s / 60) + 'm ' + String(s % 60).padStart(2, '0') + 's' : s + 's';
  }
  // Intl formatters are slow to make: one each, made once.
  const clockFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium', hour12: false });
  const clock = (iso) => {
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? '' : clockFormat.format(d);
  };
  const fullTime = (iso) => {
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? String(iso || '') : fullFormat.format(d);
  };

  // ---- the token and the API -------------------------------------------------------------

  function storedToken() {
    try { return localStorage.getItem(TOKEN_KEY) || ''; } catch (e) { return ''; }
  }
  function storeToken(t) {
    try {
      if (t) localStorage.setItem(TOKEN_KEY, t);
      else localStorage.removeItem(TOKEN_KEY);
    } catch (e) { /* private mode: the token lives until the page closes */ }
    memToken = t;
  }
  let memToken = '';
  function token() { return storedToken() || memToken; }

  (function takeTokenFromUrl() {
    const url = new URL(location.href);
    if (!url.searchParams.has('token')) return;
    storeToken(url.searchParams.get('token') || '');
    url.searchParams.delete('token'); // keep it out of the address bar and the history
    history.replaceState(null, '', url.pathname + url.search + url.hash);
  })();

  function apiUrl(path, forEventSource) {
    const t = token();
    if (!forEventSource || !t) return path;
    return path + (path.includes('?') ? '&' : '?') + 'access_token=' + encodeURIComponent(t);
  }

  // Resolves to {ok, status, data, message}; never throws.
  async function api(method, path, body) {
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
    if (res.status === 401) askForToken();
    if (res.ok) return { ok: true, status: res.status, data, message: '' };
    const message = (data && data.error && data.error.message) || (typeof data === 'string' && data) || res.statusText || 'HTTP ' + res.status;
    return { ok: false, status: res.status, data, message };
  }

  // ---- the token prompt ------------------------------------------------------------------

  let tokenPromptOpen = false;
  function askForToken() {
    const dialog = $('token-dialog');
    if (tokenPromptOpen) return;
    tokenPromptOpen = true;
    $('token-input').value = '';
    dialog.showModal();
    setTimeout(() => $('token-input').focus(), 0);
  }
  $('token-dialog').addEventListener('close', () => {
    tokenPromptOpen = false;
    if ($('token-dialog').returnValue !== 'ok') return;
    storeToken($('token-input').value.trim());
    reconnectAll();
  });

  // ---- confirmation ----------------------------------------------------------------------

  function confirmAction({ title, text, ok, field, placeholder }) {
    const dialog = $('confirm');
    $('confirm-title').textContent = title;
    $('confirm-text').textContent = text;
    $('confirm-ok').textContent = ok || 'Confirm';
    $('confirm-field').hidden = !field;
    $('confirm-field-label').textContent = field || '';
    $('confirm-input').value = '';
    $('confirm-input').placeholder = placeholder || '';
    dialog.returnValue = '';
    dialog.showModal();
    if (field) $('confirm-input').focus();
    else $('confirm-ok').focus();
    return new Promise((resolve) => {
      dialog.addEventListener('close', () => {
        resolve(dialog.returnValue === 'ok' ? { ok: true, value: $('confirm-input').value.trim() } : { ok: false });
      }, { once: true });
    });
  }

  // ---- toasts ----------------------------------------------------------------------------

  function toast(kind, title, message) {
    const box = $('toasts');
    const el = document.createElement('div');
    el.className = 'toast ' + kind;
    el.setAttribute('data-testid', 'toast');
    el.setAttribute('data-kind', kind);
    el.setAttribute('role', kind === 'error' ? 'alert' : 'status');
    el.innerHTML = '<span class="toast-icon" aria-hidden="true">' + (kind === 'error' ? '!' : '✓') + '</span>' +
      '<div class="toast-body"><div class="toast-title">' + esc(title) + '</div>' +
      (message ? '<div class="toast-msg">' + esc(message) + '</div>' : '') + '</div>' +
      '<button class="toast-close" aria-label="dismiss">×</button>';
    const remove = () => {
      el.classList.add('leaving');
      setTimeout(() => el.remove(), 200);
    };
    el.querySelector('.toast-close').addEventListener('click', remove);
    box.appendChild(el);
    while (box.children.length > 5) box.firstElementChild.remove();
    setTimeout(remove, kind === 'error' ? 10000 : 5000);
  }

  // ---- actions ---------------------------------------------------------------------------

  const busy = new Set(); // "action" or "action:service" while its request runs

  // The service's own verdict when it has one (a reset without a reset command), else the engine's.
  function allowed(action, service) {
    const svc = service && status && (status.services || []).find((s) => s.name === service);
    const a = (svc && svc.actions && svc.actions[action]) || (status && status.actions && status.actions[action]);
    return { ok: !!(a && a.allowed), reason: (a && a.reason) || (a ? '' : 'this engine does not offer ' + action) };
  }

  async function runAction(action, service, body) {
    if (!allowed(action, service).ok) return;
    const key = service ? action + ':' + service : action;
    if (busy.has(key)) return;
    if (action === 'reset') {
      const c = await confirmAction({
        title: 'Reset ' + service + '?',
        text: 'This runs the reset command of ' + service + ' (for a database: its data is wiped). It cannot be undone.',
        ok: 'Reset ' + service,
      });
      if (!c.ok) return;
    }
    if (action === 'rollback' && !body) {
      const rel = status.release || {};
      const prev = rel.history && rel.history.previous;
      const c = await confirmAction({
        title: 'Roll back?',
        text: 'Redeploy a kept release from its artifacts and pin it: the branch head is not deployed again until a newer commit arrives.' +
          (prev ? ' Leave the revision empty for the release before this one (' + shortId(prev) + ').' : ''),
        ok: 'Roll back',
        field: 'Revision (optional)',
        placeholder: prev ? shortId(prev) : 'commit id',
      });
      if (!c.ok) return;
      if (c.value) body = { revision: c.value };
    }
    busy.add(key);
    render();
    const path = service ? 'api/v1/services/' + encodeURIComponent(service) + '/' + action : 'api/v1/' + action;
    const r = await api('POST', path, body);
    busy.delete(key);
    render();
    const what = action + (service ? ' ' + service : '') + (body && body.revision ? ' ' + shortId(body.revision) : '');
    // A sync or rollback answers 200 with its outcome, which may be a failure.
    const outcome = r.data && typeof r.data === 'object' ? String(r.data.outcome || '') : '';
    if (r.ok && !/fail|refus|revert|error/.test(outcome)) toast('ok', what, describeResult(r.data));
    else if (r.ok) toast('error', what + ': ' + outcome, describeResult(r.data));
    else toast('error', what + ' failed', r.message);
  }

  async function rollbackTo(commit) {
    const c = await confirmAction({
      title: 'Roll back to ' + shortId(commit) + '?',
      text: 'Redeploy this release from its stored artifacts, without a build, and pin it until a newer commit arrives.',
      ok: 'Roll back',
    });
    if (c.ok) runAction('rollback', null, { revision: commit });
  }

  function describeResult(d) {
    if (d == null || d === '') return '';
    if (typeof d === 'string') return d;
    const parts = [];
    if (d.message) parts.push(d.message);
    else if (d.outcome) parts.push(d.outcome + (d.commit ? ' ' + shortId(d.commit) : ''));
    else if (d.result) parts.push(String(d.result));
    return parts.join(' ');
  }

  // ---- status: header, release bar, services table ---------------------------------------

  let status = null;
  const rowEls = new Map();   // service name -> <tr>
  const rowSigs = new Map();  // service name -> what the row shows, to skip unchanged rows

  function render() {
    if (!status) return;
    const t0 = performance.now();
    renderHeader();
    renderRelease();
    renderRows();
    renderHints();
    syncLogSelect();
    const ms = performance.now() - t0;
    stats.renderMs = ms;
    stats.renders++;
    stats.rows = rowEls.size;
    if (stats.firstFullRenderMs === null && status.services.length && rowEls.size === status.services.length) {
      stats.firstFullRenderMs = ms;
      stats.firstFullRenderAt = performance.now();
      // After the frame that shows it: style, layout and paint included.
      requestAnimationFrame(() => setTimeout(() => { stats.firstFullPaintAt = performance.now(); }, 0));
    }
  }

  function renderHeader() {
    $('tool').textContent = status.tool || 'tandem';
    $('tool').dataset.tool = status.tool || '';
    $('policy').textContent = status.policy || '—';
    const role = status.you && status.you.role;
    $('role-chip').hidden = !role || !token();
    $('role').textContent = role || '';
    const services = status.services || [];
    const ready = services.filter((s) => s.state === 'ready' || s.state === 'completed').length;
    document.title = (status.tool || 'tandem') + ' · ' + ready + '/' + services.length + ' ready';

    const counts = {};
    for (const s of services) {
      const st = shownState(s);
      counts[st] = (counts[st] || 0) + 1;
    }
    $('summary').innerHTML = STATES.filter((st) => counts[st])
      .map((st) => '<span class="count st-' + st + '"><i></i>' + counts[st] + ' ' + st + '</span>').join('');

    const box = $('global-actions');
    const globals = status.release ? ['sync', 'rollback'] : [];
    const sig = JSON.stringify(globals.map((a) => [a, allowed(a), busy.has(a)]));
    if (box.dataset.sig !== sig) {
      box.dataset.sig = sig;
      box.innerHTML = globals.map((a) => actionButton(a, null, a === 'sync' ? 'Sync now' : 'Roll back…', a === 'sync' ? 'primary' : 'warn')).join('');
    }
  }

  function actionButton(action, service, label, style) {
    const a = allowed(action, service);
    const key = service ? action + ':' + service : action;
    const running = busy.has(key);
    const testid = 'action-' + action + (service ? '-' + service : '');
    const tip = a.ok ? (service ? action + ' ' + service : action) : action + ' is not allowed: ' + a.reason;
    const attrs = 'data-testid="' + esc(testid) + '" data-action="' + action + '"' +
      (service ? ' data-service="' + esc(service) + '"' : '') + ' title="' + esc(tip) + '" aria-label="' + esc(tip) + '"' +
      (!a.ok || running ? ' disabled' : '') + (a.ok ? '' : ' data-reason="' + esc(a.reason) + '"');
    const cls = 'btn ' + (style || '') + (running ? ' busy' : '') + (service ? ' small' : '');
    // A disabled button shows no tooltip in every browser: its wrapper carries the reason too.
    return '<span class="btn-wrap" title="' + esc(tip) + '"><button class="' + cls + '" ' + attrs + '>' +
      (running ? '<span class="spinner" aria-hidden="true"></span>' : '') + esc(label) + '</button></span>';
  }

  function renderRelease() {
    const box = $('release');
    const rel = status.release;
    box.hidden = !rel;
    $('history-panel').hidden = !rel;
    $('audit-panel').hidden = !rel;
    document.body.classList.toggle('is-shipper', !!rel);
    if (!rel) return;
    const deployed = rel.deployed || status.revision || '';
    const head = rel.head || '';
    const rejected = (rel.history && rel.history.rejected) || {};
    const parts = [];
    parts.push('<div class="rel-main">');
    parts.push('<span class="rel-label">deployed</span>');
    if (deployed) {
      parts.push('<code class="commit" data-testid="deployed-commit" title="' + esc(deployed) + '">' + esc(shortId(deployed)) + '</code>');
      parts.push('<span class="rel-subject" data-testid="deployed-subject" title="' + esc(rel.deployed_subject || '') + '">' + esc(rel.deployed_subject || '') + '</span>');
    } else {
      parts.push('<span class="muted" data-testid="deployed-commit">nothing yet</span>');
    }
    if (rel.pinned) parts.push('<span class="pill pin" data-testid="pinned" title="pinned by a rollback until a newer commit arrives"><i class="pin-icon"></i>pinned</span>');
    if (rel.busy) parts.push('<span class="pill busy" data-testid="release-busy"><span class="spinner" aria-hidden="true"></span>deploying</span>');
    if (rel.revert_window_ends && Date.parse(rel.revert_window_ends) > Date.now()) {
      parts.push('<span class="pill watch" data-testid="revert-window" title="errors in this window revert the release (until ' +
        esc(fullTime(rel.revert_window_ends)) + ')"><i class="pulse"></i>revert window <b data-until="' +
        esc(rel.revert_window_ends) + '">' + esc(until(rel.revert_window_ends)) + '</b></span>');
    }
    parts.push('</div><div class="rel-side">');
    parts.push('<span class="rel-repo" title="' + esc(rel.repository || '') + '">' + esc(rel.repository || '') + '</span>' +
      (rel.ref ? '<span class="ref">' + esc(rel.ref) + '</span>' : ''));
    if (rel.last_fetch) parts.push('<span class="muted">fetched <span data-time="' + esc(rel.last_fetch) + '">' + esc(ago(rel.last_fetch)) + '</span></span>');
    parts.push('</div>');
    if (head && head !== deployed) {
      const why = rejected[head] ? 'rejected: ' + rejected[head] : rel.pinned ? 'held by the rollback pin' : rel.busy ? 'deploying' : '';
      parts.push('<div class="rel-note warn" data-testid="head-not-deployed"><b>head</b> <code title="' + esc(head) + '">' + esc(shortId(head)) +
        '</code> is not deployed' + (why ? '<span class="why">' + esc(why) + '</span>' : '') + '</div>');
    }
    if (rel.last_error) parts.push('<div class="rel-note error" data-testid="release-error"><b>last error</b> ' + esc(rel.last_error) + '</div>');
    const html = parts.join('');
    if (box.dataset.html !== html) {
      box.dataset.html = html;
      box.innerHTML = html;
    }
    refreshReleaseData(rel);
  }

  function replicaDots(s) {
    const reps = s.replicas || [];
    return reps.map((r) => {
      const health = r.health || 'unknown';
      const tip = 'replica ' + r.id + (r.pid ? ' · pid ' + r.pid : '') + (r.port ? ' · port ' + r.port : '') + ' · ' + health +
        (r.routed ? ' · routed' : ' · not routed') + (r.started ? ' · started ' + fullTime(r.started) : '');
      return '<i class="dot h-' + esc(health) + (r.routed ? '' : ' unrouted') + '" title="' + esc(tip) + '"></i>';
    }).join('');
  }

  // The state a row shows: the engine's, or building while a build of it runs.
  function shownState(s) {
    return building.has(s.name) && s.state !== 'crashed' && s.state !== 'starting' ? 'building' : s.state;
  }

  // A service that is down shows the last lines its crashed replica printed, as Tilt does:
  // the reason is usually there, not in the exit code.
  function crashLinesHtml(s) {
    const lines = s.crash_lines || [];
    if (!lines.length || s.state === 'ready' || s.state === 'completed') return '';
    return '<pre class="crash-lines" data-testid="crash-lines-' + esc(s.name) + '">' +
      lines.slice(-5).map((l) => esc(l.length > 200 ? l.slice(0, 200) + '…' : l)).join('\n') + '</pre>';
  }

  function rowHtml(s, shown) {
    const name = s.name;
    const state = STATES.includes(shown) ? shown : 'unknown';
    const stateTip = shown !== s.state ? 'a build is running since ' + fullTime(building.get(name)) + '; the service is ' + s.state : '';
    const reps = s.replicas || [];
    const errTip = [s.last_error].concat(s.crash_lines || []).filter(Boolean).join('\n');
    const errs = s.errors || {};
    const errCount = (errs.crashes || 0) + (errs.probe_failures || 0) + (errs.failed_gates || 0) + (errs.proxy_errors || 0);
    const errDetail = 'crashes ' + (errs.crashes || 0) + ', probe failures ' + (errs.probe_failures || 0) +
      ', failed gates ' + (errs.failed_gates || 0) + ', proxy errors ' + (errs.proxy_errors || 0);
    const port = s.port ? '<a class="port" href="http://' + esc(location.hostname || '127.0.0.1') + ':' + esc(s.port) +
      '/" target="_blank" rel="noopener" title="open ' + esc(name) + '">' + esc(s.port) + '</a>' : '<span class="muted">—</span>';
    return '' +
      '<td class="c-name"><button class="svc-name" data-select="' + esc(name) + '" title="show the logs of ' + esc(name) + '">' +
        esc(name) + '</button></td>' +
      '<td class="c-state"><span class="badge st-' + state + '" data-testid="state-' + esc(name) + '" data-state="' + esc(shown) + '"' +
        (stateTip ? ' title="' + esc(stateTip) + '"' : '') + '><i></i>' + esc(shown) + '</span></td>' +
      '<td class="c-replicas"><span class="ratio' + (reps.length && s.ready < reps.length ? ' short' : '') + '" data-testid="replicas-' + esc(name) + '">' +
        esc(s.ready ?? 0) + '/' + reps.length + '</span><span class="dots">' + replicaDots(s) + '</span></td>' +
      '<td class="c-port">' + port + '</td>' +
      '<td class="c-restarts"><span class="' + (s.restarts ? 'warn-num' : 'muted') + '" title="' + esc(errDetail) + '">' + esc(s.restarts ?? 0) +
        (errCount ? '<span class="errcount" title="' + esc(errDetail) + '">' + errCount + ' err</span>' : '') + '</span></td>' +
      '<td class="c-artifact">' + (s.artifact_digest ? '<code title="' + esc(s.artifact_digest) + '">' + esc(shortDigest(s.artifact_digest)) + '</code>'
        : '<span class="muted" title="' + esc(s.fingerprint ? 'no stored artifact; spec fingerprint ' + s.fingerprint : 'no stored artifact') + '">—</span>') + '</td>' +
      '<td class="c-error">' + (s.last_error ? '<span class="err" data-testid="error-' + esc(name) + '" title="' + esc(errTip) + '">' + esc(s.last_error) + '</span>' : '<span class="muted">—</span>') +
        crashLinesHtml(s) + '</td>' +
      '<td class="c-updated"><span data-time="' + esc(s.updated || '') + '" title="' + esc(fullTime(s.updated)) + '">' + esc(ago(s.updated)) + '</span></td>' +
      '<td class="c-actions"><div class="row-actions">' +
        actionButton('trigger', name, 'Trigger', 'primary') + actionButton('restart', name, 'Restart', '') + actionButton('reset', name, 'Reset', 'danger') +
      '</div></td>';
  }

  function renderRows() {
    const tbody = $('rows');
    const services = status.services || [];
    const seen = new Set();
    const actionSig = JSON.stringify(SERVICE_ACTIONS.map(allowed));
    let i = 0;
    for (const s of services) {
      seen.add(s.name);
      let tr = rowEls.get(s.name);
      if (!tr) {
        tr = document.createElement('tr');
        tr.setAttribute('data-testid', 'service-row-' + s.name);
        rowEls.set(s.name, tr);
      }
      const shown = shownState(s);
      const sig = JSON.stringify(s) + shown + actionSig + SERVICE_ACTIONS.map((a) => busy.has(a + ':' + s.name) ? 1 : 0).join('');
      if (rowSigs.get(s.name) !== sig) {
        rowSigs.set(s.name, sig);
        tr.className = 'row st-' + shown + (s.name === logs.service ? ' selected' : '');
        tr.dataset.state = shown;
        tr.innerHTML = rowHtml(s, shown);
      }
      tr.classList.toggle('selected', s.name === logs.service);
      if (tbody.children[i] !== tr) tbody.insertBefore(tr, tbody.children[i] || null);
      i++;
    }
    for (const [name, tr] of rowEls) {
      if (!seen.has(name)) {
        tr.remove();
        rowEls.delete(name);
        rowSigs.delete(name);
      }
    }
    $('empty').hidden = services.length > 0;
  }

  function renderHints() {
    const actions = (status.release ? ['trigger', 'restart', 'reset', 'sync', 'rollback'] : SERVICE_ACTIONS);
    const html = actions.map((a) => [a, allowed(a)]).filter(([, x]) => !x.ok)
      .map(([a, x]) => '<span class="hint" data-testid="hint-' + a + '"><b>' + esc(a) + '</b> unavailable: ' + esc(x.reason) + '</span>').join('');
    if ($('hints').dataset.html !== html) {
      $('hints').dataset.html = html;
      $('hints').innerHTML = html;
    }
  }

  function applyStatus(doc) {
    if (!doc || !Array.isArray(doc.services)) return;
    status = doc;
    render();
    if (!logs.service && doc.services.length) {
      // The one asked for in the URL, else the first that is failing (its logs say why), else the first.
      const wanted = decodeURIComponent((location.hash.match(/logs=([^&]+)/) || [])[1] || '');
      const failing = doc.services.find((s) => s.state === 'crashed' || s.state === 'degraded');
      selectService(doc.services.some((s) => s.name === wanted) ? wanted : (failing || doc.services[0]).name);
    }
  }

  // Clicks in the table, the header and the history use one listener each.
  document.addEventListener('click', (e) => {
    const btn = e.target.closest('button[data-action]');
    if (btn && !btn.disabled) {
      e.preventDefault();
      runAction(btn.dataset.action, btn.dataset.service || null);
      return;
    }
    const sel = e.target.closest('[data-select]');
    if (sel) {
      selectService(sel.dataset.select);
      return;
    }
    const rb = e.target.closest('button[data-rollback]');
    if (rb && !rb.disabled) rollbackTo(rb.dataset.rollback);
  });

  // ---- shipper: history and audit --------------------------------------------------------

  let releaseKey = '';
  let releaseTimer = 0;
  function refreshReleaseData(rel) {
    const key = [rel.deployed, rel.head, rel.pinned, rel.busy, rel.deploys, rel.audit_records, rel.last_error].join('|');
    if (key === releaseKey) return;
    releaseKey = key;
    clearTimeout(releaseTimer);
    releaseTimer = setTimeout(loadReleaseData, 150); // one fetch for a burst of changes
  }

  async function loadReleaseData() {
    const [h, a] = await Promise.all([api('GET', 'api/v1/history'), api('GET', 'api/v1/audit?tail=50')]);
    if (h.ok && h.data) renderHistory(h.data);
    else $('history-rows').innerHTML = '<tr><td colspan="6" class="muted">' + esc(h.message) + '</td></tr>';
    if (a.ok && Array.isArray(a.data)) renderAudit(a.data);
    else $('audit-rows').innerHTML = '<tr><td colspan="8" class="muted">' + esc(a.message) + '</td></tr>';
  }

  function renderHistory(h) {
    const releases = h.releases || [];
    const rejected = h.rejected || {};
    const canRollback = allowed('rollback');
    $('history-summary').textContent = releases.length + ' kept' + (Object.keys(rejected).length ? ', ' + Object.keys(rejected).length + ' rejected' : '');
    $('history-rows').innerHTML = releases.map((r) => {
      const isDeployed = r.commit === h.deployed;
      const tags = (isDeployed ? '<span class="pill ok">deployed</span>' : '') +
        (isDeployed && h.pinned ? '<span class="pill pin">pinned</span>' : '') +
        (r.commit === h.previous ? '<span class="pill">previous</span>' : '') +
        (rejected[r.commit] ? '<span class="pill bad" title="' + esc(rejected[r.commit]) + '">rejected</span>' : '');
      const arts = Object.entries(r.artifacts || {}).map(([k, v]) => k + ' ' + shortDigest(v)).join('\n');
      const btn = isDeployed ? '' : '<span class="btn-wrap" title="' + esc(canRollback.ok ? 'roll back to ' + shortId(r.commit) : canRollback.reason) +
        '"><button class="btn small ghost" data-rollback="' + esc(r.commit) + '" data-testid="rollback-' + esc(shortId(r.commit)) + '"' +
        (canRollback.ok ? '' : ' disabled') + '>Roll back</button></span>';
      return '<tr class="' + (isDeployed ? 'current' : '') + '">' +
        '<td><code title="' + esc(r.commit) + '">' + esc(shortId(r.commit)) + '</code> ' + tags + '</td>' +
        '<td class="subject" title="' + esc(arts) + '">' + esc(r.subject) + '</td>' +
        '<td>' + esc(authorName(r.author)) + '</td>' +
        '<td><span data-time="' + esc(r.deployed) + '" title="' + esc(fullTime(r.deployed)) + '">' + esc(ago(r.deployed)) + '</span></td>' +
        '<td><span class="how">' + esc(r.how || '') + '</span> <span class="muted small-text">' + esc(r.actor || '') + '</span></td>' +
        '<td class="right">' + btn + '</td></tr>';
    }).join('') || '<tr><td colspan="6" class="muted">No releases yet.</td></tr>';
    const rejectedOnly = Object.keys(rejected).filter((c) => !releases.some((r) => r.commit === c));
    if (rejectedOnly.length) {
      $('history-rows').insertAdjacentHTML('beforeend', rejectedOnly.map((c) =>
        '<tr class="rejected"><td><code title="' + esc(c) + '">' + esc(shortId(c)) + '</code> <span class="pill bad">rejected</span></td>' +
        '<td colspan="5" class="err">' + esc(rejected[c]) + '</td></tr>').join(''));
    }
  }

  function renderAudit(records) {
    $('audit-rows').innerHTML = records.slice().reverse().map((r) => {
      const outcome = String(r.outcome || '');
      const oc = /succeed|ok|done/.test(outcome) ? 'ok' : /fail|error|refus|denied/.test(outcome) ? 'bad' : 'neutral';
      const svcs = (r.services || []).map((s) => '<span class="svc-change" title="' + esc((s.old_digest || '∅') + ' → ' + (s.new_digest || '∅')) + '">' +
        esc(s.service) + ' <span class="muted">' + esc(s.change || '') + '</span> ' +
        '<code>' + esc(shortDigest(s.old_digest) || '∅') + '</code>→<code>' + esc(shortDigest(s.new_digest) || '∅') + '</code></span>').join('');
      return '<tr class="' + (r.incident ? 'incident' : '') + '">' +
        '<td class="muted">' + esc(r.seq) + '</td>' +
        '<td><span title="' + esc(fullTime(r.time)) + '" data-time="' + esc(r.time) + '">' + esc(ago(r.time)) + '</span></td>' +
        '<td><span class="event">' + esc(r.event) + '</span>' + (r.incident ? ' <span class="pill bad" title="audited as an incident">incident</span>' : '') + '</td>' +
        '<td><span class="pill ' + oc + '">' + esc(outcome || '—') + '</span></td>' +
        '<td>' + (r.commit ? '<code title="' + esc(r.commit) + '">' + esc(shortId(r.commit).slice(0, 8)) + '</code>' : '') + '</td>' +
        '<td class="actor">' + esc(r.actor) + '</td>' +
        '<td class="svcs">' + svcs + '</td>' +
        '<td class="msg">' + esc(r.message || r.subject || '') + '</td></tr>';
    }).join('') || '<tr><td colspan="8" class="muted">No audit records.</td></tr>';
  }

  // ---- the activity feed -----------------------------------------------------------------

  // The engine's status may go on saying "ready" while a new build runs (the old replicas
  // still serve): the build's runtime events say it, as they do on devloop's terminal.
  const building = new Map(); // service -> the build's start time
  function noteRuntime(ev) {
    if (!ev.service) return;
    let changed = false;
    if (ev.kind === 'action' && ev.action === 'build') {
      if (ev.outcome === 'started') {
        building.set(ev.service, ev.time || new Date().toISOString());
        changed = true;
      } else changed = building.delete(ev.service);
    } else if (ev.kind === 'crash' || (ev.kind === 'state' && STATES.includes(ev.text))) {
      changed = building.delete(ev.service);
    }
    if (changed && status) render();
  }

  const feedQueue = [];
  let feedFrame = 0;
  function addFeed(ev) {
    stats.events++;
    noteRuntime(ev);
    if (ev.kind === 'log' && !$('feed-logs').checked) return;
    feedQueue.push(ev);
    if (feedQueue.length > FEED_CAP) feedQueue.splice(0, feedQueue.length - FEED_CAP);
    if (!feedFrame) feedFrame = requestAnimationFrame(flushFeed);
  }
  function flushFeed() {
    feedFrame = 0;
    const list = $('feed');
    const frag = document.createDocumentFragment();
    for (const ev of feedQueue) {
      const li = document.createElement('li');
      const kind = ev.kind || 'event';
      const outcome = ev.outcome ? String(ev.outcome) : '';
      li.className = 'fe k-' + kind + (/fail/.test(outcome) ? ' failed' : '') + (ev.stderr ? ' stderr' : '');
      li.innerHTML = '<time>' + esc(clock(ev.time)) + '</time><span class="fk">' + esc(kind) + '</span>' +
        (ev.service ? '<button class="fs" data-select="' + esc(ev.service) + '">' + esc(ev.service) + '</button>' : '<span class="fs"></span>') +
        '<span class="ft">' + esc(ev.text || ev.action || '') +
        (outcome && ev.text && !String(ev.text).includes(outcome) ? ' <em>' + esc(outcome) + '</em>' : '') +
        (ev.elapsed_ms ? ' <span class="muted">' + esc(fmtMs(ev.elapsed_ms)) + '</span>' : '') + '</span>';
      frag.insertBefore(li, frag.firstChild);
    }
    feedQueue.length = 0;
    list.insertBefore(frag, list.firstChild);
    while (list.children.length > FEED_CAP) list.lastElementChild.remove();
  }
  const fmtMs = (ms) => (ms >= 1000 ? (ms / 1000).toFixed(1) + ' s' : Math.round(ms) + ' ms');

  // ---- the log pane: virtual scrolling ---------------------------------------------------
  //
  // Lines live in an array; the pane has a spacer as tall as all of them and draws only the
  // rows in view (plus a few) into an absolutely positioned container, reusing their nodes.

  const logs = {
    service: null,
    source: null,
    lines: [],
    pending: [],
    total: 0,          // lines received since the service was selected (numbers the rows)
    stick: true,       // follow new lines: the user has not scrolled up
    frame: 0,
    pool: [],
    error: '',
  };
  const pane = $('log-pane');
  const spacer = $('log-spacer');
  const rowsBox = $('log-rows');

  function selectService(name) {
    if (!name) return;
    if (logs.service === name && logs.source) return;
    closeLogs();
    logs.service = name;
    logs.lines = [];
    logs.pending = [];
    logs.total = 0;
    logs.stick = true;
    logs.error = '';
    stats.logLines = 0;
    stats.logTotal = 0;
    $('log-service').value = name;
    history.replaceState(null, '', '#logs=' + encodeURIComponent(name));
    for (const [n, tr] of rowEls) tr.classList.toggle('selected', n === name);
    openLogs();
    scheduleLog();
  }

  function closeLogs() {
    if (logs.source) logs.source.close();
    logs.source = null;
  }

  function openLogs() {
    const name = logs.service;
    const src = new EventSource(apiUrl('api/v1/services/' + encodeURIComponent(name) + '/logs?tail=' + LOG_TAIL + '&follow=1', true));
    logs.source = src;
    let opened = false;
    src.addEventListener('open', () => {
      // A reconnect gets the tail again: start over rather than show it twice.
      if (opened) {
        logs.lines = [];
        logs.pending = [];
        logs.total = 0;
      }
      opened = true;
      logs.error = '';
      scheduleLog();
    });
    src.addEventListener('log', (e) => {
      let line;
      try { line = JSON.parse(e.data).line; } catch (err) { line = e.data; }
      logs.pending.push(String(line ?? ''));
      if (logs.pending.length > 2 * LOG_CAP) {
        const drop = logs.pending.length - LOG_CAP;
        logs.pending.splice(0, drop);
        logs.total += drop;
      }
      if (!logs.frame) logs.frame = requestAnimationFrame(renderLog);
    });
    src.addEventListener('error', async () => {
      if (logs.source !== src) return;
      if (src.readyState !== EventSource.CLOSED) {
        logs.error = 'reconnecting…';
        scheduleLog();
        return;
      }
      // Refused: ask the plain endpoint why (an unknown service, a bad token...).
      const r = await api('GET', 'api/v1/services/' + encodeURIComponent(name) + '/logs?tail=0');
      if (logs.source !== src) return;
      logs.error = r.ok ? 'the log stream closed' : r.message;
      logs.source = null;
      scheduleLog();
      if (r.ok || r.status === 0) setTimeout(() => { if (logs.service === name && !logs.source) openLogs(); }, 3000);
    });
  }

  function scheduleLog() {
    if (!logs.frame) logs.frame = requestAnimationFrame(renderLog);
  }

  function renderLog() {
    logs.frame = 0;
    const t0 = performance.now();
    const lines = logs.lines;
    if (logs.pending.length) {
      const p = logs.pending;
      for (let i = 0; i < p.length; i++) {
        let l = p[i];
        if (l.indexOf('\u001b') >= 0) l = l.replace(ANSI, '');
        if (l.length > MAX_LINE) l = l.slice(0, MAX_LINE) + ' …';
        lines.push(l);
      }
      logs.total += p.length;
      logs.pending = [];
      // Trim in steps of 5% so a full pane does not move the whole array on every frame.
      if (lines.length > LOG_CAP + LOG_CAP / 20) {
        const drop = lines.length - LOG_CAP;
        lines.splice(0, drop);
        if (!logs.stick) pane.scrollTop = Math.max(0, pane.scrollTop - drop * ROW_H);
      }
    }
    const n = lines.length;
    spacer.style.height = n * ROW_H + 'px';
    if (logs.stick) pane.scrollTop = pane.scrollHeight;
    const top = pane.scrollTop;
    const height = pane.clientHeight || 400;
    const start = Math.max(0, Math.floor(top / ROW_H) - LOG_OVERSCAN);
    const end = Math.min(n, Math.ceil((top + height) / ROW_H) + LOG_OVERSCAN);
    const count = Math.max(0, end - start);
    while (logs.pool.length < count) {
      const row = document.createElement('div');
      row.className = 'log-row';
      const ln = document.createElement('span');
      ln.className = 'ln';
      const tx = document.createElement('span');
      tx.className = 'tx';
      const pre = document.createElement('span');
      pre.className = 'pre';
      const body = document.createTextNode('');
      tx.append(pre, body);
      row.append(ln, tx);
      row._ln = ln;
      row._pre = pre;
      row._body = body;
      row._idx = -1;
      logs.pool.push(row);
      rowsBox.appendChild(row);
    }
    const firstNumber = logs.total - n + 1; // the number of lines[0]
    for (let i = 0; i < logs.pool.length; i++) {
      const row = logs.pool[i];
      if (i >= count) {
        if (!row.hidden) {
          row.hidden = true;
          row._num = -1;
          row._text = '';
          row._ln.textContent = '';
          row._pre.textContent = '';
          row._body.data = '';
        }
        continue;
      }
      const idx = start + i;
      const num = firstNumber + idx;
      if (row.hidden) row.hidden = false;
      if (row._num !== num || row._text !== lines[idx]) {
        row._num = num;
        row._text = lines[idx];
        row._ln.textContent = num;
        const text = lines[idx];
        // The engine's "TIME service[replica] out| " prefix is dimmed; stderr lines are marked.
        const m = LOG_PREFIX.exec(text);
        const cut = m ? m[0].length : 0;
        row._pre.textContent = cut ? text.slice(0, cut) : '';
        row._body.data = cut ? text.slice(cut) : text;
        const err = !!(m && m[1] === 'err');
        if (row._err !== err) {
          row._err = err;
          row.classList.toggle('stderr', err);
        }
      }
    }
    rowsBox.style.transform = 'translateY(' + start * ROW_H + 'px)';
    rowsBox.style.setProperty('--ln-width', String(firstNumber + n).length + 1 + 'ch');

    const empty = $('log-empty');
    const msg = logs.error || (n ? '' : logs.service ? (logs.source && logs.source.readyState === 1 ? 'No log lines yet.' : 'Connecting…') : 'Select a service to see its logs.');
    empty.textContent = msg;
    empty.hidden = !msg || (n > 0 && !logs.error);
    empty.classList.toggle('error', !!logs.error && logs.error !== 'reconnecting…');
    $('log-info').textContent = n ? n.toLocaleString() + ' lines' + (logs.total > n ? ' (' + (logs.total - n).toLocaleString() + ' dropped)' : '') : '';
    $('log-jump').hidden = logs.stick || n === 0;

    const ms = performance.now() - t0;
    stats.logLines = n;
    stats.logTotal = logs.total;
    stats.logRenderMs = ms;
    stats.logRenders++;
    if (ms > stats.logMaxRenderMs) stats.logMaxRenderMs = ms;
  }

  pane.addEventListener('scroll', () => {
    const atBottom = pane.scrollTop + pane.clientHeight >= pane.scrollHeight - ROW_H * 1.5;
    logs.stick = atBottom;
    scheduleLog();
  }, { passive: true });
  // Scrolling up with the wheel or keys stops following at once, before the next line lands.
  pane.addEventListener('wheel', (e) => { if (e.deltaY < 0) logs.stick = false; }, { passive: true });
  pane.addEventListener('keydown', (e) => {
    if (['ArrowUp', 'PageUp', 'Home'].includes(e.key)) logs.stick = false;
    if (e.key === 'End') { logs.stick = true; scheduleLog(); }
  });
  window.addEventListener('resize', scheduleLog);
  $('log-jump').addEventListener('click', () => {
    logs.stick = true;
    scheduleLog();
  });
  $('log-clear').addEventListener('click', () => {
    logs.lines = [];
    logs.pending = [];
    logs.stick = true;
    scheduleLog();
  });
  $('log-service').addEventListener('change', (e) => selectService(e.target.value));

  function syncLogSelect() {
    const sel = $('log-service');
    const names = (status.services || []).map((s) => s.name);
    const sig = names.join('\n');
    if (sel.dataset.sig !== sig) {
      sel.dataset.sig = sig;
      sel.innerHTML = names.map((n) => '<option value="' + esc(n) + '">' + esc(n) + '</option>').join('');
    }
    if (logs.service && sel.value !== logs.service) sel.value = logs.service;
  }

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
    const src = new EventSource(apiUrl('api/v1/events', true));
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
    if (logs.service) {
      const name = logs.service;
      logs.service = null;
      selectService(name);
    }
    releaseKey = '';
    if (status) render();
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
})();
