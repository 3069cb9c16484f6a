// Under shipper: the release bar (the deployed commit, the pin, the revert window, a head
// that is not deployed and why), the release history with its rollback buttons, and the
// audit trail. History and audit are fetched again when the release changes.
import { $, page } from './page.js';
import { html, setHtml, updateHtml, appendHtml } from './html.js';
import { shortId, shortDigest, authorName, ago, until, fullTime } from './format.js';
import { api } from './api.js';
import { allowed } from './actions.js';

function releaseMain(rel, deployed) {
  const parts = [html`<span class="rel-label">deployed</span>`];
  if (deployed) {
    parts.push(html`<code class="commit" data-testid="deployed-commit" title="${deployed}">${shortId(deployed)}</code>`);
    parts.push(html`<span class="rel-subject" data-testid="deployed-subject" title="${rel.deployed_subject || ''}">${rel.deployed_subject || ''}</span>`);
  } else {
    parts.push(html`<span class="muted" data-testid="deployed-commit">nothing yet</span>`);
  }
  if (rel.pinned) parts.push(html`<span class="pill pin" data-testid="pinned" title="pinned by a rollback until a newer commit arrives"><i class="pin-icon"></i>pinned</span>`);
  if (rel.busy) parts.push(html`<span class="pill busy" data-testid="release-busy"><span class="spinner" aria-hidden="true"></span>deploying</span>`);
  const ends = rel.revert_window_ends;
  if (ends && Date.parse(ends) > Date.now()) {
    parts.push(html`<span class="pill watch" data-testid="revert-window" title="errors in this window revert the release (until ${fullTime(ends)})"><i class="pulse"></i>revert window <b data-until="${ends}">${until(ends)}</b></span>`);
  }
  return parts;
}

function releaseSide(rel) {
  return [
    html`<span class="rel-repo" title="${rel.repository || ''}">${rel.repository || ''}</span>`,
    rel.ref ? html`<span class="ref">${rel.ref}</span>` : '',
    rel.last_fetch ? html`<span class="muted">fetched <span data-time="${rel.last_fetch}">${ago(rel.last_fetch)}</span></span>` : '',
  ];
}

// The deploy previews (shipper run --previews): one row each, its URL a link.
function renderPreviews(previews) {
  const panel = $('previews-panel');
  panel.hidden = !Array.isArray(previews);
  if (panel.hidden) return;
  const running = previews.filter((p) => p.state === 'running').length;
  updateHtml($('previews-summary'), html`<span>${previews.length} previews, ${running} running</span>`);
  const rows = previews.map((p) => html`<tr data-testid="preview-row" data-preview="${p.name}">
    <td><b>${p.name}</b></td><td><span class="ref">${p.branch}</span></td>
    <td><span class="pill ${p.state === 'running' ? 'ok' : p.state === 'failed' ? 'bad' : 'neutral'}">${p.state}</span></td>
    <td>${p.url ? html`<a href="${p.url}" target="_blank" rel="noopener">${p.url}</a>` : ''}</td>
    <td><code title="${p.commit}">${shortId(p.commit)}</code></td>
    <td><span data-time="${p.pushed}">${ago(p.pushed)}</span></td><td class="muted">${p.why || ''}</td></tr>`);
  updateHtml($('previews-rows'), rows.length ? html`${rows}` : html`<tr><td colspan="7" class="muted">no branch matches the patterns yet</td></tr>`);
}

export function renderRelease() {
  const status = page.status;
  renderPreviews(status.previews);
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
  let headNote = '';
  if (head && head !== deployed) {
    const why = rejected[head] ? 'rejected: ' + rejected[head] : rel.pinned ? 'held by the rollback pin' : rel.busy ? 'deploying' : '';
    headNote = html`<div class="rel-note warn" data-testid="head-not-deployed"><b>head</b> <code title="${head}">${shortId(head)}</code> is not deployed${why ? html`<span class="why">${why}</span>` : ''}</div>`;
  }
  const lastError = rel.last_error ? html`<div class="rel-note error" data-testid="release-error"><b>last error</b> ${rel.last_error}</div>` : '';
  updateHtml(box, html`<div class="rel-main">${releaseMain(rel, deployed)}</div><div class="rel-side">${releaseSide(rel)}</div>${headNote}${lastError}`);
  refreshReleaseData(rel);
}

let releaseKey = '';
let releaseTimer = 0;
function refreshReleaseData(rel) {
  const key = [rel.deployed, rel.head, rel.pinned, rel.busy, rel.deploys, rel.audit_records, rel.last_error].join('|');
  if (key === releaseKey) return;
  releaseKey = key;
  clearTimeout(releaseTimer);
  releaseTimer = setTimeout(loadReleaseData, 150); // one fetch for a burst of changes
}

// After a new token: the next render fetches history and audit again.
export function forgetReleaseData() {
  releaseKey = '';
}

async function loadReleaseData() {
  const [h, a] = await Promise.all([api('GET', 'api/v1/history'), api('GET', 'api/v1/audit?tail=50')]);
  if (h.ok && h.data) renderHistory(h.data);
  else setHtml($('history-rows'), html`<tr><td colspan="6" class="muted">${h.message}</td></tr>`);
  if (a.ok && Array.isArray(a.data)) renderAudit(a.data);
  else setHtml($('audit-rows'), html`<tr><td colspan="8" class="muted">${a.message}</td></tr>`);
}

function historyRow(r, h, rejected, canRollback) {
  const isDeployed = r.commit === h.deployed;
  const tags = [
    isDeployed ? html`<span class="pill ok">deployed</span>` : '',
    isDeployed && h.pinned ? html`<span class="pill pin">pinned</span>` : '',
    r.commit === h.previous ? html`<span class="pill">previous</span>` : '',
    rejected[r.commit] ? html`<span class="pill bad" title="${rejected[r.commit]}">rejected</span>` : '',
  ];
  const arts = Object.entries(r.artifacts || {}).map(([k, v]) => k + ' ' + shortDigest(v)).join('\n');
  const tip = canRollback.ok ? 'roll back to ' + shortId(r.commit) : canRollback.reason;
  const btn = isDeployed ? '' : html`<span class="btn-wrap" title="${tip}"><button class="btn small ghost" data-rollback="${r.commit}" data-testid="rollback-${shortId(r.commit)}"${canRollback.ok ? '' : html` disabled`}>Roll back</button></span>`;
  return html`<tr class="${isDeployed ? 'current' : ''}">${[
    html`<td><code title="${r.commit}">${shortId(r.commit)}</code> ${tags}</td>`,
    html`<td class="subject" title="${arts}">${r.subject}</td>`,
    html`<td>${authorName(r.author)}</td>`,
    html`<td><span data-time="${r.deployed}" title="${fullTime(r.deployed)}">${ago(r.deployed)}</span></td>`,
    html`<td><span class="how">${r.how || ''}</span> <span class="muted small-text">${r.actor || ''}</span></td>`,
    html`<td class="right">${btn}</td>`,
  ]}</tr>`;
}

function renderHistory(h) {
  const releases = h.releases || [];
  const rejected = h.rejected || {};
  const canRollback = allowed('rollback');
  const rejectedCount = Object.keys(rejected).length;
  $('history-summary').textContent = releases.length + ' kept' + (rejectedCount ? ', ' + rejectedCount + ' rejected' : '');
  setHtml($('history-rows'), releases.length ? html`${releases.map((r) => historyRow(r, h, rejected, canRollback))}`
    : html`<tr><td colspan="6" class="muted">No releases yet.</td></tr>`);
  const rejectedOnly = Object.keys(rejected).filter((c) => !releases.some((r) => r.commit === c));
  if (rejectedOnly.length) {
    appendHtml($('history-rows'), html`${rejectedOnly.map((c) =>
      html`<tr class="rejected"><td><code title="${c}">${shortId(c)}</code> <span class="pill bad">rejected</span></td><td colspan="5" class="err">${rejected[c]}</td></tr>`)}`);
  }
}

function auditRow(r) {
  const outcome = String(r.outcome || '');
  const oc = /succeed|ok|done/.test(outcome) ? 'ok' : /fail|error|refus|denied/.test(outcome) ? 'bad' : 'neutral';
  const svcs = (r.services || []).map((s) => html`<span class="svc-change" title="${(s.old_digest || '∅') + ' → ' + (s.new_digest || '∅')}">${s.service} <span class="muted">${s.change || ''}</span> <code>${shortDigest(s.old_digest) || '∅'}</code>→<code>${shortDigest(s.new_digest) || '∅'}</code></span>`);
  const incident = r.incident ? html` <span class="pill bad" title="audited as an incident">incident</span>` : '';
  return html`<tr class="${r.incident ? 'incident' : ''}">${[
    html`<td class="muted">${r.seq}</td>`,
    html`<td><span title="${fullTime(r.time)}" data-time="${r.time}">${ago(r.time)}</span></td>`,
    html`<td><span class="event">${r.event}</span>${incident}</td>`,
    html`<td><span class="pill ${oc}">${outcome || '—'}</span></td>`,
    html`<td>${r.commit ? html`<code title="${r.commit}">${shortId(r.commit).slice(0, 8)}</code>` : ''}</td>`,
    html`<td class="actor">${r.actor}</td>`,
    html`<td class="svcs">${svcs}</td>`,
    html`<td class="msg">${r.message || r.subject || ''}</td>`,
  ]}</tr>`;
}

function renderAudit(records) {
  setHtml($('audit-rows'), records.length ? html`${records.slice().reverse().map(auditRow)}`
    : html`<tr><td colspan="8" class="muted">No audit records.</td></tr>`);
}
