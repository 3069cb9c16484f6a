// The log pane: the selected service's log stream, with virtual scrolling.
//
// Lines live in an array; the pane has a spacer as tall as all of them and draws only the
// rows in view (plus a few) into an absolutely positioned container, reusing their nodes.
// Lines are text nodes, never markup.
import { $, stats } from './page.js';
import { html, setHtml } from './html.js';
import { api, eventSource, servicePath } from './api.js';

const ROW_H = 18;            // px; the same as .log-row's height in style.css
const LOG_CAP = 200000;      // lines kept in the pane; older ones are dropped
const LOG_TAIL = 1000;       // lines asked for when a service is selected
const LOG_OVERSCAN = 10;     // rows rendered above and below the visible ones
const MAX_LINE = 4000;       // characters shown of one line
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;
const LOG_PREFIX = /^\d{4}-\d\d-\d\dT[\d:.]+Z? \S+ (out|err)\| /;

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

export const selectedService = () => logs.service;

// Shows the logs of the service of that name: true when it was not shown already.
export function selectService(name) {
  if (!name) return false;
  if (logs.service === name && logs.source) return false;
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
  openLogs();
  scheduleLog();
  return true;
}

// After a new token: the selected service's stream again, with it.
export function reopenLogs() {
  const name = logs.service;
  if (!name) return;
  logs.service = null;
  selectService(name);
}

function closeLogs() {
  if (logs.source) logs.source.close();
  logs.source = null;
}

function openLogs() {
  const name = logs.service;
  const src = eventSource(servicePath(name, 'logs') + '?tail=' + LOG_TAIL + '&follow=1');
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
    scheduleLog();
  });
  src.addEventListener('error', async () => {
    if (logs.source !== src) return;
    if (src.readyState !== EventSource.CLOSED) {
      logs.error = 'reconnecting…';
      scheduleLog();
      return;
    }
    // Refused: ask the plain endpoint why (an unknown service, a bad token...).
    const r = await api('GET', servicePath(name, 'logs') + '?tail=0');
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

// Moves the lines that arrived since the last frame into the pane's array.
function takePending() {
  const lines = logs.lines;
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

function newRow() {
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
  return row;
}

function showLine(row, num, text) {
  if (row._num === num && row._text === text) return;
  row._num = num;
  row._text = text;
  row._ln.textContent = num;
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

function hideRow(row) {
  if (row.hidden) return;
  row.hidden = true;
  row._num = -1;
  row._text = '';
  row._ln.textContent = '';
  row._pre.textContent = '';
  row._body.data = '';
}

// Draws the rows in view, reusing the pool's nodes.
function drawRows() {
  const lines = logs.lines;
  const n = lines.length;
  spacer.style.height = n * ROW_H + 'px';
  if (logs.stick) pane.scrollTop = pane.scrollHeight;
  const top = pane.scrollTop;
  const height = pane.clientHeight || 400;
  const start = Math.max(0, Math.floor(top / ROW_H) - LOG_OVERSCAN);
  const end = Math.min(n, Math.ceil((top + height) / ROW_H) + LOG_OVERSCAN);
  const count = Math.max(0, end - start);
  while (logs.pool.length < count) {
    const row = newRow();
    logs.pool.push(row);
    rowsBox.appendChild(row);
  }
  const firstNumber = logs.total - n + 1; // the number of lines[0]
  for (let i = 0; i < logs.pool.length; i++) {
    const row = logs.pool[i];
    if (i >= count) {
      hideRow(row);
      continue;
    }
    if (row.hidden) row.hidden = false;
    showLine(row, firstNumber + start + i, lines[start + i]);
  }
  rowsBox.style.transform = 'translateY(' + start * ROW_H + 'px)';
  rowsBox.style.setProperty('--ln-width', String(firstNumber + n).length + 1 + 'ch');
}

function renderLogInfo(n) {
  const empty = $('log-empty');
  const msg = logs.error || (n ? '' : logs.service ? (logs.source && logs.source.readyState === 1 ? 'No log lines yet.' : 'Connecting…') : 'Select a service to see its logs.');
  empty.textContent = msg;
  empty.hidden = !msg || (n > 0 && !logs.error);
  empty.classList.toggle('error', !!logs.error && logs.error !== 'reconnecting…');
  $('log-info').textContent = n ? n.toLocaleString() + ' lines' + (logs.total > n ? ' (' + (logs.total - n).toLocaleString() + ' dropped)' : '') : '';
  $('log-jump').hidden = logs.stick || n === 0;
}

export function renderLog() {
  logs.frame = 0;
  const t0 = performance.now();
  if (logs.pending.length) takePending();
  drawRows();
  const n = logs.lines.length;
  renderLogInfo(n);
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

// The select above the pane lists the services of the status.
export function syncLogSelect(names) {
  const sel = $('log-service');
  const sig = names.join('\n');
  if (sel.dataset.sig !== sig) {
    sel.dataset.sig = sig;
    setHtml(sel, html`${names.map((n) => html`<option value="${n}">${n}</option>`)}`);
  }
  if (logs.service && sel.value !== logs.service) sel.value = logs.service;
}
