// The page's dialogs: the token prompt, the confirmation of an action, and the toasts that
// tell how an action went.
import { $ } from './page.js';
import { html, setHtml } from './html.js';

// ---- the token prompt ------------------------------------------------------------------

let tokenPromptOpen = false;
let tokenEntered = () => {};

// What to do with the token the user entered (app.js keeps it and reconnects).
export function onTokenEntered(fn) {
  tokenEntered = fn;
}

export function askForToken() {
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
  tokenEntered($('token-input').value.trim());
});

// ---- confirmation ----------------------------------------------------------------------

// Resolves to {ok: true, value} (the field's text, when it has a field) or {ok: false}.
export function confirmAction({ title, text, ok, field, placeholder }) {
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

export function toast(kind, title, message) {
  const box = $('toasts');
  const el = document.createElement('div');
  el.className = 'toast ' + kind;
  el.setAttribute('data-testid', 'toast');
  el.setAttribute('data-kind', kind);
  el.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  const icon = kind === 'error' ? '!' : '✓';
  const body = html`<div class="toast-title">${title}</div>${message ? html`<div class="toast-msg">${message}</div>` : ''}`;
  setHtml(el, html`<span class="toast-icon" aria-hidden="true">${icon}</span><div class="toast-body">${body}</div><button class="toast-close" aria-label="dismiss">×</button>`);
  const remove = () => {
    el.classList.add('leaving');
    setTimeout(() => el.remove(), 200);
  };
  el.querySelector('.toast-close').addEventListener('click', remove);
  box.appendChild(el);
  while (box.children.length > 5) box.firstElementChild.remove();
  setTimeout(remove, kind === 'error' ? 10000 : 5000);
}
