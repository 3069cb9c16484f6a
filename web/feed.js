// The activity feed: the engine's runtime events, newest first, drawn once a frame. The build
// events also tell the services table which services are building.
import { $, page, building, stats, render, STATES } from './page.js';
import { html, setHtml } from './html.js';
import { clock, fmtMs } from './format.js';

const FEED_CAP = 300; // activity entries kept

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
  if (changed && page.status) render();
}

const feedQueue = [];
let feedFrame = 0;

// One `runtime` event of the events stream.
export function addFeed(ev) {
  stats.events++;
  noteRuntime(ev);
  if (ev.kind === 'log' && !$('feed-logs').checked) return;
  feedQueue.push(ev);
  if (feedQueue.length > FEED_CAP) feedQueue.splice(0, feedQueue.length - FEED_CAP);
  if (!feedFrame) feedFrame = requestAnimationFrame(flushFeed);
}

function entry(ev, kind, outcome) {
  const who = ev.service ? html`<button class="fs" data-select="${ev.service}">${ev.service}</button>` : html`<span class="fs"></span>`;
  const extra = outcome && ev.text && !String(ev.text).includes(outcome) ? html` <em>${outcome}</em>` : '';
  const took = ev.elapsed_ms ? html` <span class="muted">${fmtMs(ev.elapsed_ms)}</span>` : '';
  return html`<time>${clock(ev.time)}</time><span class="fk">${kind}</span>${who}<span class="ft">${ev.text || ev.action || ''}${extra}${took}</span>`;
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
    setHtml(li, entry(ev, kind, outcome));
    frag.insertBefore(li, frag.firstChild);
  }
  feedQueue.length = 0;
  list.insertBefore(frag, list.firstChild);
  while (list.children.length > FEED_CAP) list.lastElementChild.remove();
}
