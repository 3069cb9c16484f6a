// What the page's modules share: the engine's last status document, the actions under way,
// the builds the events stream reported, the figures tests read (window.tandemStats), and the
// one render that app.js installs.

export const $ = (id) => document.getElementById(id);

export const SERVICE_ACTIONS = ['trigger', 'restart', 'reset'];
export const STATES = ['building', 'starting', 'ready', 'degraded', 'crashed', 'completed', 'stopped'];

export const page = {
  status: null, // the last status document (docs/http-api.md), null until the first one
};

export const busy = new Set(); // "action" or "action:service" while its request runs

// The engine's status may go on saying "ready" while a new build runs (the old replicas
// still serve): the build's runtime events say it, as they do on devloop's terminal.
export const building = new Map(); // service -> the build's start time

export const stats = {
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

let renderer = () => {};
export function setRenderer(fn) {
  renderer = fn;
}
// Draws the header, the release bar and the table again from page.status.
export function render() {
  renderer();
}
