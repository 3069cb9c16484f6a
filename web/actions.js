// The engine's actions (trigger, restart, reset; sync and rollback under shipper): whether
// the status allows one, its button, and running it (confirmed first where it destroys or
// pins something) with a toast for its outcome.
import { page, busy, render } from './page.js';
import { api, servicePath } from './api.js';
import { confirmAction, toast } from './dialogs.js';
import { html } from './html.js';
import { shortId } from './format.js';

// The service's own verdict when it has one (a reset without a reset command), else the engine's.
export function allowed(action, service) {
  const status = page.status;
  const svc = service && status && (status.services || []).find((s) => s.name === service);
  const a = (svc && svc.actions && svc.actions[action]) || (status && status.actions && status.actions[action]);
  return { ok: !!(a && a.allowed), reason: (a && a.reason) || (a ? '' : 'this engine does not offer ' + action) };
}

export function actionButton(action, service, label, style) {
  const a = allowed(action, service);
  const key = service ? action + ':' + service : action;
  const running = busy.has(key);
  const testid = 'action-' + action + (service ? '-' + service : '');
  const tip = a.ok ? (service ? action + ' ' + service : action) : action + ' is not allowed: ' + a.reason;
  const cls = 'btn ' + (style || '') + (running ? ' busy' : '') + (service ? ' small' : '');
  const serviceAttr = service ? html` data-service="${service}"` : '';
  const disabled = !a.ok || running ? html` disabled` : '';
  const reason = a.ok ? '' : html` data-reason="${a.reason}"`;
  const spinner = running ? html`<span class="spinner" aria-hidden="true"></span>` : '';
  // A disabled button shows no tooltip in every browser: its wrapper carries the reason too.
  return html`<span class="btn-wrap" title="${tip}"><button class="${cls}" data-testid="${testid}" data-action="${action}"${serviceAttr} title="${tip}" aria-label="${tip}"${disabled}${reason}>${spinner}${label}</button></span>`;
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

// Reset wipes a service's data; rollback pins a release: both ask first.
async function confirmed(action, service, body) {
  if (action === 'reset') {
    const c = await confirmAction({
      title: 'Reset ' + service + '?',
      text: 'This runs the reset command of ' + service + ' (for a database: its data is wiped). It cannot be undone.',
      ok: 'Reset ' + service,
    });
    return c.ok ? { body } : null;
  }
  if (action === 'rollback' && !body) {
    const rel = page.status.release || {};
    const prev = rel.history && rel.history.previous;
    const c = await confirmAction({
      title: 'Roll back?',
      text: 'Redeploy a kept release from its artifacts and pin it: the branch head is not deployed again until a newer commit arrives.' +
        (prev ? ' Leave the revision empty for the release before this one (' + shortId(prev) + ').' : ''),
      ok: 'Roll back',
      field: 'Revision (optional)',
      placeholder: prev ? shortId(prev) : 'commit id',
    });
    if (!c.ok) return null;
    return { body: c.value ? { revision: c.value } : body };
  }
  return { body };
}

export async function runAction(action, service, body) {
  if (!allowed(action, service).ok) return;
  const key = service ? action + ':' + service : action;
  if (busy.has(key)) return;
  const go = await confirmed(action, service, body);
  if (!go) return;
  body = go.body;
  busy.add(key);
  render();
  const r = await api('POST', service ? servicePath(service, action) : 'api/v1/' + action, body);
  busy.delete(key);
  render();
  const what = action + (service ? ' ' + service : '') + (body && body.revision ? ' ' + shortId(body.revision) : '');
  // A sync or rollback answers 200 with its outcome, which may be a failure.
  const outcome = r.data && typeof r.data === 'object' ? String(r.data.outcome || '') : '';
  if (r.ok && !/fail|refus|revert|error/.test(outcome)) toast('ok', what, describeResult(r.data));
  else if (r.ok) toast('error', what + ': ' + outcome, describeResult(r.data));
  else toast('error', what + ' failed', r.message);
}

export async function rollbackTo(commit) {
  const c = await confirmAction({
    title: 'Roll back to ' + shortId(commit) + '?',
    text: 'Redeploy this release from its stored artifacts, without a build, and pin it until a newer commit arrives.',
    ok: 'Roll back',
  });
  if (c.ok) runAction('rollback', null, { revision: commit });
}
