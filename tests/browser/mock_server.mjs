#!/usr/bin/env node
// A stand-in for the engine's HTTP API (docs/http-api.md), for working on the web page
// without a running engine, and for the page's load test (100 services, 100,000 log lines).
// It serves ../../web as the engine does and fakes the API: status, the events stream, logs
// (with follow), the actions, and under --tool shipper the history and the audit trail.
//
//   node mock_server.mjs [--port 10350] [--tool devloop|shipper] [--services 3]
//                        [--log-lines 200] [--token SECRET] [--deny reset,sync] [--hostile] [--no-csp] [--quiet]
//
// The page's files come with the engine's headers (page_headers.mjs), its Content-Security-Policy
// among them, unless --no-csp.
//
// --hostile puts markup into every string the page shows (a service's name, its error and
// crash lines, action reasons, the release, history, audit, feed and toast texts): markup
// that runs script (<img onerror>) and quotes that end an attribute, if the page did not
// escape it. The page shows it as text; mock.test.mjs checks that.
//
// Besides the API it has two developer endpoints (not part of the engine's API):
//   POST /mock/burst?service=NAME&n=N   append N log lines to a service at once
//   POST /mock/state?service=NAME&state=S[&error=TEXT]   set a service's state
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { pageHeaders } from './page_headers.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const webDir = path.resolve(here, '../../web');

function parseArgs(argv) {
  const o = { port: 10350, tool: 'devloop', services: 3, logLines: 200, token: '', deny: [], hostile: false, csp: true, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--port') o.port = Number(v());
    else if (a === '--tool') o.tool = v();
    else if (a === '--services') o.services = Number(v());
    else if (a === '--log-lines') o.logLines = Number(v());
    else if (a === '--token') o.token = v();
    else if (a === '--deny') o.deny = v().split(',').filter(Boolean);
    else if (a === '--hostile') o.hostile = true;
    else if (a === '--no-csp') o.csp = false;
    else if (a === '--quiet') o.quiet = true;
    else if (a === '--help' || a === '-h') {
      console.log('usage: node mock_server.mjs [--port N] [--tool devloop|shipper] [--services N] ' +
                  '[--log-lines N] [--token SECRET] [--deny ACTION,...] [--hostile] [--no-csp] [--quiet]');
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  if (!['devloop', 'shipper'].includes(o.tool)) throw new Error('--tool is devloop or shipper');
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const shipper = opts.tool === 'shipper';
const now = () => new Date().toISOString();
const sha = (s) => 'sha256:' + crypto.createHash('sha256').update(String(s)).digest('hex');
const commitId = (s) => crypto.createHash('sha1').update(String(s)).digest('hex');

// ---- the fake engine -------------------------------------------------------------------

const baseNames = ['store', 'api', 'worker', 'web', 'queue', 'auth', 'search', 'mailer', 'cache', 'billing'];
function serviceName(i) {
  if (opts.services <= baseNames.length) return baseNames[i];
  return `svc-${String(i).padStart(3, '0')}`;
}

const services = [];
for (let i = 0; i < opts.services; i++) {
  const name = serviceName(i);
  const replicas = shipper && name === 'api' ? 2 : (i % 7 === 3 ? 2 : 1);
  services.push({
    name,
    state: 'ready',
    port: i === 2 && opts.services <= baseNames.length ? 0 : 7400 + i,
    replicaCount: replicas,
    restarts: 0,
    digest: sha(name + ':1'),
    fingerprint: sha('fp:' + name),
    lastError: '',
    crashLines: [],
    // The store (and the load test's services) have a reset command; the others do not.
    hasReset: name === 'store' || opts.services > baseNames.length,
    updated: now(),
    errors: { crashes: 0, probe_failures: 0, failed_gates: 0, proxy_errors: 0 },
    replicaIds: Array.from({ length: replicas }, (_, r) => i * 10 + r + 1),
    unhealthy: new Set(),
    // The log is virtual: line k is made from k, so a large log costs no memory.
    logBase: opts.logLines,
    logExtra: 0,
    followers: new Set(),
  });
}
if (services.length >= 3 && opts.services <= baseNames.length) {
  // A little variety for the page: one degraded service with an error.
  const s = services[2];
  s.state = 'degraded';
  s.restarts = 2;
  s.lastError = 'health check failed 3 times: connection refused';
  s.crashLines = ['panic: lost the store connection', 'exit status 2'];
  s.errors.crashes = 2;
  s.unhealthy.add(s.replicaIds[0]);
}

// A string that is markup if the page does not escape it: the quotes end a quoted attribute,
// the <img> runs window.__pwned.push(WHERE) when its (missing) image fails to load, and the
// <b data-hostile> is an element that must not exist.
const hostile = (where) => `${where} "'><img src=x onerror=window.__pwned.push(this.alt) alt=${where}><b data-hostile>${where}</b>`;
if (opts.hostile && services.length >= 3) {
  services[1].name = hostile('name');
  services[1].digest = 'sha256:' + hostile('digest');
  services[2].lastError = hostile('error');
  services[2].crashLines = [hostile('crash-line')];
}

const byName = new Map(services.map((s) => [s.name, s]));

const release = shipper ? makeRelease() : null;
if (release && opts.hostile) {
  release.repository = hostile('repository');
  release.ref = hostile('ref');
  release.lastError = hostile('release-error');
  release.rejected[release.head] = hostile('rejected');
  Object.assign(release.releases[0], { subject: hostile('subject'), author: hostile('author'), how: hostile('how'), actor: hostile('actor') });
  Object.assign(release.audit.at(-1), { event: hostile('event'), actor: hostile('audit-actor'), message: hostile('audit-message'), outcome: hostile('outcome') });
  release.audit.at(-1).services[0].change = hostile('change');
}
function makeRelease() {
  const commits = ['bootstrap the project', 'api: faster index', 'store: compact on start', 'worker: retry jobs']
    .map((subject, k) => ({ commit: commitId('c' + k), subject }));
  const deployedAt = (k) => new Date(Date.now() - (commits.length - k) * 3600e3).toISOString();
  const releases = commits.slice().reverse().map((c, r) => {
    const k = commits.length - 1 - r;
    return {
      commit: c.commit,
      author: k % 2 ? 'Ada <ada@example.com>' : 'Grace <grace@example.com>',
      subject: c.subject,
      deployed: deployedAt(k),
      actor: k === 0 ? 'engine start' : 'poll',
      how: k === 0 ? 'bootstrap' : 'deploy',
      artifacts: Object.fromEntries(services.slice(0, 10).map((s) => [s.name, s.digest])),
    };
  });
  const audit = [];
  let prev = '';
  const addAudit = (rec) => {
    const full = { seq: audit.length + 1, prev, ...rec };
    prev = crypto.createHash('sha256').update(JSON.stringify(full)).digest('hex');
    audit.push(full);
  };
  commits.forEach((c, k) => addAudit({
    actor: k === 0 ? 'engine start' : 'poll', author: 'Ada <ada@example.com>', build_ms: 400 + k * 13,
    commit: c.commit, event: k === 0 ? 'bootstrap' : 'deploy', incident: k === 0, message: '',
    outcome: 'succeeded', previous_commit: k ? commits[k - 1].commit : '', rollout_ms: 1300,
    services: services.slice(0, 3).map((s) => ({ change: k === 0 ? 'start' : 'replace', new_digest: s.digest,
                                                   old_digest: k === 0 ? '' : sha(s.name + ':0'), service: s.name })),
    subject: c.subject, time: deployedAt(k), total_ms: 1790,
  }));
  const head = commitId('head');
  const rejected = { [head]: 'reverted: 4 errors in the revert window (max 3)' };
  addAudit({ actor: 'poll', author: 'Grace <grace@example.com>', build_ms: 380, commit: head, event: 'deploy',
             incident: false, message: 'crashes after the rollout', outcome: 'failed',
             previous_commit: commits[commits.length - 1].commit, rollout_ms: 900,
             services: [{ change: 'replace', new_digest: sha('bad'), old_digest: services[0].digest, service: services[0].name }],
             subject: 'store: new index format', time: now(), total_ms: 1400 });
  addAudit({ actor: 'auto-revert', author: '', build_ms: 0, commit: commits[commits.length - 1].commit, event: 'revert',
             incident: true, message: 'reverted ' + head.slice(0, 12) + ': 4 errors in the revert window',
             outcome: 'succeeded', previous_commit: head, rollout_ms: 700,
             services: [{ change: 'replace', new_digest: services[0].digest, old_digest: sha('bad'), service: services[0].name }],
             subject: commits[commits.length - 1].subject, time: now(), total_ms: 800 });
  return {
    repository: 'https://git.example.com/team/app.git', ref: 'main', head, pinned: false, busy: false,
    lastError: 'deploy ' + head.slice(0, 12) + ' reverted: 4 errors in the revert window (max 3)',
    lastFetch: now(), revertWindowEnds: 0, deploys: commits.length + 1, rejected, releases, audit, addAudit,
    deployed: commits[commits.length - 1].commit, previous: commits[commits.length - 2].commit,
  };
}

function actions() {
  const a = {};
  const denied = (name) => opts.deny.includes(name);
  for (const name of ['trigger', 'restart', 'reset', 'sync', 'rollback']) {
    if (denied(name) && opts.hostile) a[name] = { allowed: false, reason: hostile('reason-' + name) };
    else if (denied(name)) a[name] = { allowed: false, reason: `policy '${shipper ? 'harness' : 'wip'}' denies ${name === 'reset' ? 'database.reset' : name}` };
    else a[name] = { allowed: true };
  }
  if (!shipper) {
    a.sync = { allowed: false, reason: 'this engine follows files on disk, not a git repository' };
    a.rollback = { allowed: false, reason: 'this engine follows files on disk, not a git repository' };
  } else if (!opts.deny.includes('reset')) {
    a.reset = { allowed: false, reason: "policy 'harness' denies database.reset" };
  }
  return a;
}

// A service's own actions: the engine's, and reset refused without a reset command.
function serviceActions(s) {
  const all = actions();
  const own = { trigger: all.trigger, restart: all.restart, reset: all.reset };
  if (!s.hasReset && own.reset.allowed) own.reset = { allowed: false, reason: `${s.name} has no reset command and no state: (add \`reset:\` to it in tandem.yaml)` };
  return own;
}

function serviceJson(s) {
  return {
    name: s.name,
    state: s.state,
    port: s.port,
    ready: s.state === 'ready' || s.state === 'degraded' ? s.replicaIds.length - s.unhealthy.size : 0,
    restarts: s.restarts,
    replicas: s.state === 'stopped' || s.state === 'building' ? [] : s.replicaIds.map((id, r) => ({
      id, handle: 'pid ' + (4000 + id), port: 27000 + id,
      health: s.state === 'starting' ? 'unknown' : (s.unhealthy.has(id) ? 'unhealthy' : 'healthy'),
      routed: s.state !== 'starting' && !s.unhealthy.has(id),
      started: s.updated,
    })),
    artifact_digest: s.digest,
    fingerprint: s.fingerprint,
    last_error: s.lastError,
    crash_lines: s.crashLines,
    updated: s.updated,
    errors: s.errors,
    actions: serviceActions(s),
  };
}

function releaseJson() {
  if (!release) return null;
  const rec = release.releases.find((r) => r.commit === release.deployed);
  return {
    repository: release.repository, ref: release.ref, policy: 'harness', head: release.head,
    deployed: release.deployed, deployed_subject: rec ? rec.subject : '', pinned: release.pinned,
    busy: release.busy, last_error: release.lastError, last_fetch: release.lastFetch,
    revert_window_ends: release.revertWindowEnds > Date.now() ? new Date(release.revertWindowEnds).toISOString() : '',
    deploys: release.deploys, audit_records: release.audit.length, history: historyJson(),
  };
}

function historyJson() {
  return {
    version: 1, deployed: release.deployed, previous: release.previous, pinned: release.pinned,
    pinned_head: release.pinned ? release.head : '', rejected: release.rejected, running_from: {},
    releases: release.releases,
  };
}

// shipper's deploy previews (docs/previews.md): one running, one stopped for the limit.
const previews = shipper ? [
  { name: 'feature-login', branch: 'feature/login', state: 'running', why: '', url: 'http://feature-login.localhost:8090/',
    commit: commitId('p1'), deployed: commitId('p1'), subject: 'login form', policy: 'wip', ports: { web: 40001 },
    state_dir: '/srv/previews/feature-login', created: new Date(Date.now() - 7200e3).toISOString(),
    pushed: new Date(Date.now() - 600e3).toISOString() },
  { name: 'feature-cart', branch: 'feature/cart', state: 'stopped', why: 'the oldest idle of 1 running previews (the limit)',
    url: 'http://feature-cart.localhost:8090/', commit: commitId('p2'), deployed: commitId('p2'), subject: 'cart',
    policy: 'wip', ports: { web: 40002 }, state_dir: '/srv/previews/feature-cart',
    created: new Date(Date.now() - 86400e3).toISOString(), pushed: new Date(Date.now() - 86400e3).toISOString() },
] : undefined;
if (previews && opts.hostile) Object.assign(previews[1], { branch: hostile('preview-branch'), why: hostile('preview-why'), name: hostile('preview-name') });

function statusJson() {
  return {
    tool: opts.tool,
    policy: shipper ? 'harness' : 'wip',
    revision: release ? release.deployed : '',
    release: releaseJson(),
    previews,
    services: services.map(serviceJson),
    actions: actions(),
    you: { token: opts.token ? 'alice' : '', role: 'admin' },
  };
}

// ---- server-sent events ---------------------------------------------------------------

const eventClients = new Set();
let statusTimer = null;
let lastStatusSent = 0;
function statusChanged() {
  // At most every 100 ms, as the engine does.
  if (statusTimer) return;
  const wait = Math.max(0, 100 - (Date.now() - lastStatusSent));
  statusTimer = setTimeout(() => {
    statusTimer = null;
    lastStatusSent = Date.now();
    const frame = sse('status', statusJson());
    for (const res of eventClients) res.write(frame);
  }, wait);
}
function sse(event, data) {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
function runtimeEvent(ev) {
  const frame = sse('runtime', { time: now(), replica: 0, stderr: false, ...ev });
  for (const res of eventClients) res.write(frame);
}

// Lines look like the engine's: "TIME service[replica] out| text" (err| for stderr).
function logLine(s, k) {
  const t = new Date(Date.UTC(2026, 10, 25, 17, 0, 0) + k * 37).toISOString();
  const kinds = ['GET /api/items 200 3ms', 'GET /healthz 200 0ms', 'POST /api/jobs 201 12ms',
                 'cache miss key=user:' + (k % 977), 'WARN slow query 412ms: SELECT * FROM jobs', 'GET /static/app.css 304 1ms'];
  const kind = k % kinds.length;
  return `${t} ${s.name}[${s.replicaIds[k % s.replicaIds.length]}] ${kind === 4 ? 'err' : 'out'}| #${k} ${kinds[kind]}`;
}
function logTotal(s) {
  return s.logBase + s.logExtra;
}
function appendLog(s, text) {
  const k = logTotal(s);
  s.logExtra++;
  const line = text === undefined ? logLine(s, k) : `${now()} ${s.name}[${s.replicaIds[0]}] out| ${text}`;
  if (text !== undefined) (s.custom ||= new Map()).set(k, line);
  const frame = sse('log', { line });
  for (const res of s.followers) res.write(frame);
  return line;
}
function lineAt(s, k) {
  return (s.custom && s.custom.get(k)) ?? logLine(s, k);
}

// Writes many log lines to a follower without holding the whole stream in memory.
function streamLines(res, s, from, to, done) {
  let k = from;
  const step = () => {
    while (k < to) {
      let chunk = '';
      const end = Math.min(to, k + 2000);
      for (; k < end; k++) chunk += sse('log', { line: lineAt(s, k) });
      if (!res.write(chunk)) {
        res.once('drain', step);
        return;
      }
    }
    done();
  };
  step();
}

// ---- simulated work ---------------------------------------------------------------------

function setState(s, state, extra = {}) {
  s.state = state;
  s.updated = now();
  Object.assign(s, extra);
  runtimeEvent({ kind: 'state', service: s.name, text: state });
  statusChanged();
}

function rollout(s, { build }) {
  const t0 = Date.now();
  if (build) {
    setState(s, 'building', { lastError: '' });
    runtimeEvent({ kind: 'action', service: s.name, text: 'build started', action: 'build', outcome: 'started', elapsed_ms: 0 });
    appendLog(s, `$ build ${s.name}`);
  }
  setTimeout(() => {
    if (build) {
      s.digest = sha(s.name + ':' + Date.now());
      runtimeEvent({ kind: 'action', service: s.name, text: 'build done', action: 'build', outcome: 'succeeded',
                     elapsed_ms: Date.now() - t0 });
    }
    setState(s, 'starting', { crashLines: [] });
    appendLog(s, `${s.name} starting on port ${s.port}`);
    setTimeout(() => {
      s.unhealthy.clear();
      setState(s, 'ready', { lastError: '' });
      appendLog(s, `${s.name} ready`);
      runtimeEvent({ kind: 'action', service: s.name, text: 'replace done', action: 'replace', outcome: 'succeeded',
                     elapsed_ms: Date.now() - t0 });
    }, 600);
  }, build ? 900 : 100);
}

function deploy(commit, subject, how, actor) {
  release.busy = true;
  statusChanged();
  setTimeout(() => {
    const old = release.deployed;
    if (!release.releases.find((r) => r.commit === commit)) {
      release.releases.unshift({ commit, author: 'Ada <ada@example.com>', subject, deployed: now(), actor, how,
                                 artifacts: Object.fromEntries(services.slice(0, 10).map((s) => [s.name, s.digest])) });
    }
    release.previous = old;
    release.deployed = commit;
    release.busy = false;
    release.deploys++;
    release.revertWindowEnds = Date.now() + 60e3;
    release.addAudit({ actor, author: 'Ada <ada@example.com>', build_ms: how === 'rollback' ? 0 : 420, commit,
                       event: how, incident: false, message: '', outcome: 'succeeded', previous_commit: old,
                       rollout_ms: 600, services: services.slice(0, 2).map((s) => ({ change: 'replace',
                       new_digest: s.digest, old_digest: sha(s.name + ':old'), service: s.name })),
                       subject, time: now(), total_ms: 1100 });
    for (const s of services.slice(0, 2)) rollout(s, { build: false });
  }, 300);
}

// A slow trickle of new lines, so the log pane has something to follow.
// (Not with many services: the load test counts lines.)
if (opts.services <= baseNames.length) {
  setInterval(() => {
    for (const s of services.slice(0, 3)) appendLog(s);
  }, 1000).unref();
}

// ---- HTTP --------------------------------------------------------------------------------

const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
                '.css': 'text/css; charset=utf-8' };

function sendJson(res, code, body) {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(text);
}
function sendError(res, code, errCode, message) {
  sendJson(res, code, { error: { code: errCode, message } });
}
function startSse(res) {
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
  res.write(': connected\n\n');
  const keep = setInterval(() => res.write(': keep-alive\n\n'), 15000);
  res.on('close', () => clearInterval(keep));
}
function readBody(req) {
  return new Promise((resolve, reject) => {
    const parts = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > 64 * 1024) reject(Object.assign(new Error('body over 64 KiB'), { tooLarge: true }));
      else parts.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}
function authorized(req, url) {
  if (!opts.token) return true;
  const h = req.headers.authorization || '';
  if (h === `Bearer ${opts.token}`) return true;
  return url.searchParams.get('access_token') === opts.token;
}

async function handle(req, res) {
  const url = new URL(req.url, 'http://localhost');
  const p = url.pathname;
  if (!opts.quiet) console.log(`${req.method} ${req.url}`);

  // The page's files as the engine serves them: / is index.html, /NAME a file of web/ (no folders).
  const asset = p === '/' ? 'index.html' : p.slice(1);
  if (req.method === 'GET' && !asset.includes('/') && fs.readdirSync(webDir).includes(asset)) {
    const file = path.join(webDir, asset);
    fs.readFile(file, (err, data) => {
      if (err) return sendError(res, 404, 'not_found', `no ${p}`);
      res.writeHead(200, { 'Content-Type': types[path.extname(file)] || 'application/octet-stream', 'Cache-Control': 'no-store', ...(opts.csp ? pageHeaders : {}) });
      res.end(data);
    });
    return;
  }
  if (req.method === 'GET' && p === '/metrics') {
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
    res.end(services.map((s) => `tandem_service_restarts{service="${s.name}"} ${s.restarts}`).join('\n') + '\n');
    return;
  }
  if (p.startsWith('/mock/') && req.method === 'POST') {
    const s = byName.get(url.searchParams.get('service') || '');
    if (!s) return sendError(res, 404, 'not_found', 'unknown service');
    if (p === '/mock/burst') {
      const n = Math.min(Number(url.searchParams.get('n') || '1000'), 1e6);
      const from = logTotal(s);
      s.logExtra += n;
      let pending = s.followers.size;
      if (!pending) return sendJson(res, 200, { appended: n, last: lineAt(s, from + n - 1) });
      for (const f of s.followers) streamLines(f, s, from, from + n, () => {
        if (--pending === 0) sendJson(res, 200, { appended: n, last: lineAt(s, from + n - 1) });
      });
      return;
    }
    if (p === '/mock/state') {
      setState(s, url.searchParams.get('state') || 'ready', { lastError: url.searchParams.get('error') || '' });
      return sendJson(res, 200, serviceJson(s));
    }
    return sendError(res, 404, 'not_found', `no ${p}`);
  }
  if (!p.startsWith('/api/v1/')) return sendError(res, 404, 'not_found', `no ${p}`);
  if (!authorized(req, url)) return sendError(res, 401, 'unauthorized', 'no or a bad token');

  if (req.method === 'GET' && p === '/api/v1/status') return sendJson(res, 200, statusJson());
  if (req.method === 'GET' && p === '/api/v1/events') {
    startSse(res);
    res.write(sse('status', statusJson()));
    if (opts.hostile) res.write(sse('runtime', { time: now(), replica: 0, stderr: false, kind: 'action', service: services[1].name,
                                                  text: hostile('feed-text'), action: 'build', outcome: hostile('feed-outcome') }));
    eventClients.add(res);
    res.on('close', () => eventClients.delete(res));
    return;
  }
  if (req.method === 'GET' && p === '/api/v1/history') {
    if (!release) return sendError(res, 404, 'not_found', 'devloop keeps no release history');
    return sendJson(res, 200, historyJson());
  }
  if (req.method === 'GET' && p === '/api/v1/audit') {
    if (!release) return sendError(res, 404, 'not_found', 'devloop keeps no audit log');
    const tail = Number(url.searchParams.get('tail') || '100');
    if (!Number.isInteger(tail) || tail < 0) return sendError(res, 400, 'bad_request', `tail: not a count: ${url.searchParams.get('tail')}`);
    return sendJson(res, 200, release.audit.slice(Math.max(0, release.audit.length - tail)));
  }

  const m = p.match(/^\/api\/v1\/services\/([^/]+)\/(logs|trigger|restart|reset)$/);
  if (m) {
    const s = byName.get(decodeURIComponent(m[1]));
    if (!s) return sendError(res, 404, 'not_found', `unknown service '${decodeURIComponent(m[1])}'`);
    const what = m[2];
    if (what === 'logs') {
      if (req.method !== 'GET') return sendError(res, 404, 'not_found', 'use GET');
      const tailParam = url.searchParams.get('tail');
      const tail = tailParam === null ? 100 : Number(tailParam);
      if (!Number.isInteger(tail) || tail < 0) return sendError(res, 400, 'bad_request', `tail: not a count: ${tailParam}`);
      const n = Math.min(tail, 100000, logTotal(s));
      const from = logTotal(s) - n;
      if (url.searchParams.get('follow') === '1') {
        startSse(res);
        streamLines(res, s, from, from + n, () => {
          // Lines appended while the tail was written are sent after it, in order.
          const caughtUp = logTotal(s);
          streamLines(res, s, from + n, caughtUp, () => {});
          s.followers.add(res);
        });
        res.on('close', () => s.followers.delete(res));
        return;
      }
      const lines = [];
      for (let k = from; k < from + n; k++) lines.push(lineAt(s, k));
      return sendJson(res, 200, { service: s.name, lines });
    }
    if (req.method !== 'POST') return sendError(res, 404, 'not_found', 'use POST');
    const a = serviceActions(s)[what];
    if (!a.allowed) return sendError(res, 403, 'policy_denied', a.reason);
    if (what === 'trigger') {
      rollout(s, { build: true });
      return sendJson(res, 200, { ok: true, service: s.name, action: 'trigger', outcome: 'succeeded',
                                  ...(opts.hostile ? { message: hostile('toast') } : {}) });
    }
    if (what === 'restart') {
      s.restarts = 0;
      rollout(s, { build: false });
      return sendJson(res, 200, { ok: true, service: s.name, action: 'restart', outcome: 'succeeded' });
    }
    appendLog(s, `$ reset ${s.name}: rm -rf data/${s.name}`);
    runtimeEvent({ kind: 'action', service: s.name, text: 'reset done', action: 'reset', outcome: 'succeeded', elapsed_ms: 12 });
    return sendJson(res, 200, { ok: true, service: s.name, action: 'reset', outcome: 'succeeded' });
  }

  if (req.method === 'POST' && (p === '/api/v1/sync' || p === '/api/v1/rollback')) {
    const name = p.endsWith('sync') ? 'sync' : 'rollback';
    let body = '';
    try {
      body = await readBody(req);
    } catch (e) {
      return sendError(res, e.tooLarge ? 413 : 400, e.tooLarge ? 'too_large' : 'bad_request', e.message);
    }
    const a = actions()[name];
    if (!a.allowed) return sendError(res, 403, 'policy_denied', a.reason);
    if (name === 'sync') {
      const commit = commitId('sync' + Date.now());
      deploy(commit, 'sync: ' + new Date().toISOString().slice(11, 19), 'deploy', 'sync command by user web (pid 0)');
      release.head = commit;
      return sendJson(res, 200, { event: 'deploy', commit, outcome: 'succeeded', message: `deployed ${commit.slice(0, 12)}` });
    }
    let revision = '';
    if (body.trim()) {
      try {
        revision = JSON.parse(body).revision || '';
      } catch (e) {
        return sendError(res, 400, 'bad_request', `bad JSON: ${e.message}`);
      }
    }
    const target = revision
      ? release.releases.find((r) => r.commit.startsWith(revision))
      : release.releases.find((r) => r.commit === release.previous);
    if (!target) return sendError(res, revision ? 404 : 409, revision ? 'not_found' : 'conflict',
                                  revision ? `no kept release ${revision}` : 'no release before this one');
    if (target.commit === release.deployed) return sendError(res, 409, 'conflict', `${target.commit.slice(0, 12)} is deployed already`);
    release.pinned = true;
    deploy(target.commit, target.subject, 'rollback', 'rollback command by user web (pid 0)');
    return sendJson(res, 200, { event: 'rollback', commit: target.commit, outcome: 'succeeded',
                                message: `rolled back to ${target.commit.slice(0, 12)}; pinned` });
  }
  return sendError(res, 404, 'not_found', `no ${req.method} ${p}`);
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((e) => {
    if (!res.headersSent) sendError(res, 500, 'internal', e.message);
    else res.end();
  });
});
server.keepAliveTimeout = 60000;
server.listen(opts.port, '127.0.0.1', () => {
  const { port } = server.address();
  // The first line names the address, so a test can start the mock on port 0 and read it.
  console.log(`mock tandem ${opts.tool} on http://127.0.0.1:${port}/ (${services.length} services)`);
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
