// The header (tool, policy, role, counts by state, shipper's global actions), the services
// table (one row per service, rebuilt only when what it shows changed) and the hints under
// it that say why an action is unavailable.
import { $, page, busy, building, stats, STATES, SERVICE_ACTIONS } from './page.js';
import { html, setHtml, updateHtml } from './html.js';
import { shortDigest, ago, fullTime } from './format.js';
import { allowed, actionButton } from './actions.js';
import { token } from './api.js';
import { selectedService } from './logs.js';

const rowEls = new Map();   // service name -> <tr>
const rowSigs = new Map();  // service name -> what the row shows, to skip unchanged rows

// The state a row shows: the engine's, or building while a build of it runs.
function shownState(s) {
  return building.has(s.name) && s.state !== 'crashed' && s.state !== 'starting' ? 'building' : s.state;
}

export function renderHeader() {
  const status = page.status;
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
  setHtml($('summary'), html`${STATES.filter((st) => counts[st])
    .map((st) => html`<span class="count st-${st}"><i></i>${counts[st]} ${st}</span>`)}`);

  const box = $('global-actions');
  const globals = status.release ? ['sync', 'rollback'] : [];
  const sig = JSON.stringify(globals.map((a) => [a, allowed(a), busy.has(a)]));
  if (box.dataset.sig !== sig) {
    box.dataset.sig = sig;
    setHtml(box, html`${globals.map((a) => actionButton(a, null, a === 'sync' ? 'Sync now' : 'Roll back…', a === 'sync' ? 'primary' : 'warn'))}`);
  }
}

function replicaDots(s) {
  return (s.replicas || []).map((r) => {
    const health = r.health || 'unknown';
    const tip = 'replica ' + r.id + (r.handle ? ' · ' + r.handle : '') + (r.port ? ' · port ' + r.port : '') + ' · ' + health +
      (r.routed ? ' · routed' : ' · not routed') + (r.started ? ' · started ' + fullTime(r.started) : '');
    return html`<i class="dot h-${health}${r.routed ? '' : ' unrouted'}" title="${tip}"></i>`;
  });
}

// A service that is down shows the last lines its crashed replica printed, as Tilt does:
// the reason is usually there, not in the exit code.
function crashLines(s) {
  const lines = s.crash_lines || [];
  if (!lines.length || s.state === 'ready' || s.state === 'completed') return '';
  const shown = lines.slice(-5).map((l) => (l.length > 200 ? l.slice(0, 200) + '…' : l)).join('\n');
  return html`<pre class="crash-lines" data-testid="crash-lines-${s.name}">${shown}</pre>`;
}

function errorCounts(s) {
  const errs = s.errors || {};
  const count = (errs.crashes || 0) + (errs.probe_failures || 0) + (errs.failed_gates || 0) + (errs.proxy_errors || 0);
  const detail = 'crashes ' + (errs.crashes || 0) + ', probe failures ' + (errs.probe_failures || 0) +
    ', failed gates ' + (errs.failed_gates || 0) + ', proxy errors ' + (errs.proxy_errors || 0);
  return { count, detail };
}

// The cells of a row, one fragment each.
function cells(s, shown) {
  const name = s.name;
  const state = STATES.includes(shown) ? shown : 'unknown';
  const stateTip = shown !== s.state ? 'a build is running since ' + fullTime(building.get(name)) + '; the service is ' + s.state : '';
  const reps = s.replicas || [];
  const errTip = [s.last_error].concat(s.crash_lines || []).filter(Boolean).join('\n');
  const errs = errorCounts(s);
  const host = location.hostname || '127.0.0.1';
  const short = reps.length && s.ready < reps.length ? ' short' : '';
  return [
    html`<td class="c-name"><button class="svc-name" data-select="${name}" title="show the logs of ${name}">${name}</button></td>`,
    html`<td class="c-state"><span class="badge st-${state}" data-testid="state-${name}" data-state="${shown}"${stateTip ? html` title="${stateTip}"` : ''}><i></i>${shown}</span></td>`,
    html`<td class="c-replicas"><span class="ratio${short}" data-testid="replicas-${name}">${s.ready ?? 0}/${reps.length}</span><span class="dots">${replicaDots(s)}</span></td>`,
    html`<td class="c-port">${s.port ? html`<a class="port" href="http://${host}:${s.port}/" target="_blank" rel="noopener" title="open ${name}">${s.port}</a>` : html`<span class="muted">—</span>`}</td>`,
    html`<td class="c-restarts"><span class="${s.restarts ? 'warn-num' : 'muted'}" title="${errs.detail}">${s.restarts ?? 0}${errs.count ? html`<span class="errcount" title="${errs.detail}">${errs.count} err</span>` : ''}</span></td>`,
    html`<td class="c-artifact">${s.artifact_digest ? html`<code title="${s.artifact_digest}">${shortDigest(s.artifact_digest)}</code>`
      : html`<span class="muted" title="${s.fingerprint ? 'no stored artifact; spec fingerprint ' + s.fingerprint : 'no stored artifact'}">—</span>`}</td>`,
    html`<td class="c-error">${s.last_error ? html`<span class="err" data-testid="error-${name}" title="${errTip}">${s.last_error}</span>` : html`<span class="muted">—</span>`}${crashLines(s)}</td>`,
    html`<td class="c-updated"><span data-time="${s.updated || ''}" title="${fullTime(s.updated)}">${ago(s.updated)}</span></td>`,
    html`<td class="c-actions"><div class="row-actions">${actionButton('trigger', name, 'Trigger', 'primary')}${actionButton('restart', name, 'Restart', '')}${actionButton('reset', name, 'Reset', 'danger')}</div></td>`,
  ];
}

export function renderRows() {
  const tbody = $('rows');
  const services = page.status.services || [];
  const selected = selectedService();
  const seen = new Set();
  const actionSig = JSON.stringify(SERVICE_ACTIONS.map((a) => allowed(a)));
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
      tr.className = 'row st-' + shown + (s.name === selected ? ' selected' : '');
      tr.dataset.state = shown;
      setHtml(tr, html`${cells(s, shown)}`);
    }
    tr.classList.toggle('selected', s.name === selected);
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
  stats.rows = rowEls.size;
}

export function markSelectedRow(name) {
  for (const [n, tr] of rowEls) tr.classList.toggle('selected', n === name);
}

export function renderHints() {
  const actions = page.status.release ? ['trigger', 'restart', 'reset', 'sync', 'rollback'] : SERVICE_ACTIONS;
  const hints = actions.map((a) => [a, allowed(a)]).filter(([, x]) => !x.ok)
    .map(([a, x]) => html`<span class="hint" data-testid="hint-${a}"><b>${a}</b> unavailable: ${x.reason}</span>`);
  updateHtml($('hints'), html`${hints}`);
}
