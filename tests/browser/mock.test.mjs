// The web page against the mock API (mock_server.mjs): a load test with 100 services and
// 100,000 log lines, the token prompt, and actions that are refused or need confirming.
// Timings are printed (and written to out/figures.txt), never asserted.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { launchBrowser, newPage, startMock, outDir, here } from './lib.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { if (browser) await browser.close(); });

const figures = [];
function figure(name, value, unit = 'ms') {
  const text = `${name}: ${typeof value === 'number' ? value.toFixed(1) : value} ${unit}`;
  figures.push(text);
  console.log('figure ' + text);
}
after(() => fs.writeFileSync(path.join(outDir, 'figures.txt'), figures.join('\n') + '\n'));

test('100 services and 100,000 log lines', async () => {
  const mock = await startMock({ services: 100, logLines: 1000 });
  try {
    const page = await newPage(browser, { width: 1440, height: 1000 });
    await page.goto(mock.url);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid^="service-row-"]').length === 100);
    await page.waitForFunction(() => window.tandemStats.firstFullPaintAt !== null);
    const s = await page.evaluate(() => window.tandemStats);
    assert.equal(s.rows, 100);
    figure('first full render of 100 rows (script)', s.firstFullRenderMs);
    figure('page start to 100 rows rendered', s.firstFullRenderAt);
    figure('page start to 100 rows painted', s.firstFullPaintAt);

    // A status change re-renders the table: only the changed row is rebuilt.
    await fetch(mock.url + 'mock/state?service=svc-042&state=crashed&error=exit%20status%202', { method: 'POST' });
    await page.waitForSelector('[data-testid="state-svc-042"][data-state="crashed"]');
    figure('status update render with 100 rows', await page.evaluate(() => window.tandemStats.renderMs));

    // The first service's log is selected on load: its 1,000-line tail arrives first.
    await page.waitForFunction(() => window.tandemStats.logLines === 1000);
    const t0 = await page.evaluate(() => {
      window.__burstDone = null;
      window.tandemStats.logMaxRenderMs = 0;
      return performance.now();
    });
    const res = await fetch(mock.url + 'mock/burst?service=svc-000&n=100000', { method: 'POST' });
    const { last } = await res.json();
    await page.waitForFunction(() => window.tandemStats.logTotal >= 101000 && (window.__burstDone ??= performance.now()),
                               null, { polling: 'raf', timeout: 60000 });
    const done = await page.evaluate(() => window.__burstDone);
    const after = await page.evaluate(() => window.tandemStats);
    figure('100,000 lines streamed, appended and rendered', done - t0);
    figure('slowest log pane frame during the burst', after.logMaxRenderMs);
    assert.equal(after.logLines, 101000);

    // Following: the last line is in view; only the visible rows are in the DOM.
    const tail = await page.evaluate(() => {
      const rows = [...document.querySelectorAll('#log-rows .log-row:not([hidden]) .tx')];
      return { count: document.querySelectorAll('#log-rows .log-row').length, last: rows.at(-1)?.textContent };
    });
    assert.equal(tail.last, last);
    assert.ok(tail.count < 200, `the pane holds ${tail.count} row elements for 101,000 lines`);
    await page.screenshot({ path: path.join(outDir, 'load.png') });

    // Scrolled up, the pane stays where the user put it while lines arrive.
    const jump = await page.evaluate(async () => {
      const pane = document.getElementById('log-pane');
      pane.scrollTop = pane.scrollHeight / 2;
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      const t = performance.now();
      pane.scrollTop += 40000;
      await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
      return { ms: performance.now() - t, top: pane.scrollTop, render: window.tandemStats.logRenderMs };
    });
    figure('scroll jump of 2,200 rows to the next painted frame', jump.ms);
    await fetch(mock.url + 'mock/burst?service=svc-000&n=10', { method: 'POST' });
    await page.waitForFunction(() => window.tandemStats.logTotal >= 101010);
    const stayed = await page.evaluate(() => document.getElementById('log-pane').scrollTop);
    assert.ok(Math.abs(stayed - jump.top) < 2, `the pane moved from ${jump.top} to ${stayed} while scrolled up`);
    assert.ok(await page.isVisible('[data-testid="log-jump"]'), 'the follow button shows while scrolled up');
    await page.click('[data-testid="log-jump"]');
    await page.waitForFunction((l) => {
      const rows = [...document.querySelectorAll('#log-rows .log-row:not([hidden]) .tx')];
      return rows.length && rows.at(-1).textContent !== l;
    }, last);
    assert.deepEqual(page.problems, []);
  } finally {
    await mock.stop();
  }
});

test('a token from the URL is kept, and a missing one is asked for', async () => {
  const mock = await startMock({ token: 's3cret' });
  try {
    const page = await newPage(browser);
    await page.goto(mock.url);
    await page.waitForSelector('[data-testid="token-prompt"][open]');
    await page.fill('[data-testid="token-input"]', 's3cret');
    await page.click('[data-testid="token-save"]');
    await page.waitForSelector('[data-testid="service-row-store"]');
    await page.waitForFunction(() => window.tandemStats.logLines > 0); // the log stream took access_token
    await page.waitForSelector('[data-testid="connection"][data-state="live"]');

    const fresh = await newPage(browser);
    await fresh.goto(mock.url + '?token=s3cret');
    await fresh.waitForSelector('[data-testid="service-row-api"]');
    assert.equal(new URL(fresh.url()).search, '', 'the token is taken out of the address');
    assert.equal(await fresh.evaluate(() => localStorage.getItem('tandem.token')), 's3cret');
    assert.equal(await fresh.isVisible('[data-testid="token-prompt"]'), false);
  } finally {
    await mock.stop();
  }
});

test('refused actions are disabled with their reason; reset and rollback ask first', async () => {
  const mock = await startMock({ tool: 'shipper' });
  try {
    const page = await newPage(browser);
    await page.goto(mock.url);
    await page.waitForSelector('[data-testid="service-row-api"]');
    // Shipper: reset is refused by the policy, with the reason on the button and under the table.
    const reset = page.locator('[data-testid="action-reset-store"]');
    assert.equal(await reset.isDisabled(), true);
    assert.match(await reset.getAttribute('title'), /denies database\.reset/);
    assert.match(await page.textContent('[data-testid="hint-reset"]'), /denies database\.reset/);
    assert.match(await page.textContent('[data-testid="head-not-deployed"]'), /not deployed/);
    await page.waitForSelector('[data-testid="history"] tbody tr');
    await page.waitForSelector('[data-testid="audit"] tbody tr');
    // The deploy previews: a row each, the running one's URL a link, the stopped one's reason shown.
    assert.equal(await page.locator('[data-testid="preview-row"]').count(), 2);
    assert.equal(await page.getAttribute('[data-preview="feature-login"] a', 'href'), 'http://feature-login.localhost:8090/');
    assert.match(await page.textContent('[data-preview="feature-cart"]'), /stopped.*the limit/s);

    // Rollback: confirmed, a toast, the release pinned, history and audit refreshed.
    const auditRows = await page.locator('[data-testid="audit"] tbody tr').count();
    await page.click('[data-testid="action-rollback"]');
    await page.waitForSelector('[data-testid="confirm"][open]');
    await page.click('[data-testid="confirm-cancel"]');
    assert.equal(await page.isVisible('[data-testid="confirm"]'), false);
    await page.click('[data-testid="action-rollback"]');
    await page.click('[data-testid="confirm-ok"]');
    const t = page.locator('[data-testid="toast"][data-kind="ok"]');
    await t.waitFor();
    assert.match(await t.textContent(), /rolled back/);
    await page.waitForSelector('[data-testid="pinned"]');
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="audit"] tbody tr').length > n, auditRows);
    await page.waitForSelector('[data-testid="revert-window"]');
    await page.screenshot({ path: path.join(outDir, 'shipper.png'), fullPage: true });

    // A rollback to the deployed commit fails: the toast carries the API's message.
    const deployed = await page.getAttribute('[data-testid="deployed-commit"]', 'title');
    await page.click('[data-testid="action-rollback"]');
    await page.fill('[data-testid="confirm-input"]', deployed.slice(0, 8));
    await page.click('[data-testid="confirm-ok"]');
    const err = page.locator('[data-testid="toast"][data-kind="error"]');
    await err.waitFor();
    assert.match(await err.textContent(), /deployed already/);
    assert.deepEqual(page.problems, []);
  } finally {
    await mock.stop();
  }
});

test('devloop: reset asks first, then a toast; global actions are not offered', async () => {
  const mock = await startMock({ tool: 'devloop', deny: 'restart' });
  try {
    const page = await newPage(browser, { colorScheme: 'light' });
    await page.goto(mock.url);
    await page.waitForSelector('[data-testid="service-row-store"]');
    assert.equal(await page.locator('[data-testid="action-sync"]').count(), 0);
    assert.equal(await page.locator('[data-testid="action-restart-api"]').isDisabled(), true);
    await page.click('[data-testid="action-reset-store"]');
    await page.click('[data-testid="confirm-ok"]');
    await page.locator('[data-testid="toast"][data-kind="ok"]').waitFor();
    await page.click('[data-testid="action-trigger-api"]');
    await page.waitForSelector('[data-testid="state-api"][data-state="building"]');
    await page.waitForSelector('[data-testid="state-api"][data-state="ready"]', { timeout: 10000 });
    await page.waitForSelector('[data-testid="activity"] li');
    await page.screenshot({ path: path.join(outDir, 'light.png'), fullPage: true });
    assert.deepEqual(page.problems, []);
  } finally {
    await mock.stop();
  }
});

test('Reset is disabled, with the reason, on a service without a reset command; the log pane opens on the failing service', async () => {
  const mock = await startMock({ tool: 'devloop' });
  try {
    const page = await newPage(browser);
    await page.goto(mock.url);
    await page.waitForSelector('[data-testid="service-row-worker"]');
    const apiReset = page.locator('[data-testid="action-reset-api"]');
    assert.equal(await apiReset.isDisabled(), true);
    assert.match(await apiReset.getAttribute('title'), /api has no reset command/);
    assert.equal(await page.locator('[data-testid="action-reset-store"]').isDisabled(), false);
    assert.equal(await page.locator('[data-testid="action-trigger-api"]').isDisabled(), false);
    // worker (the third row) is degraded: its logs say why, so the pane opens on it.
    await page.waitForFunction(() => document.querySelector('[data-testid="log-service"]').value === 'worker');
    // ... and its row shows the crashed replica's last lines.
    assert.match(await page.locator('[data-testid="crash-lines-worker"]').textContent(), /panic: lost the store connection/);
    assert.equal(await page.locator('[data-testid="crash-lines-api"]').count(), 0);
    assert.deepEqual(page.problems, []);
  } finally {
    await mock.stop();
  }
});

test('text from the API stays text: markup in every field runs nothing and shows literally', async () => {
  // --hostile: names, errors, reasons, the release, history, audit, feed and toast texts carry
  // `"'><img src=x onerror=window.__pwned.push(...)>` and a <b data-hostile> element. Without
  // the Content-Security-Policy, which alone would stop the inline onerror: this checks the escaping.
  const mock = await startMock({ tool: 'shipper', deny: 'restart', hostile: true, csp: false });
  try {
    const get = async (p) => (await fetch(mock.url + p)).json();
    const status = await get('api/v1/status');
    const history = await get('api/v1/history');
    const audit = await get('api/v1/audit?tail=50');
    const page = await newPage(browser);
    await page.addInitScript(() => { window.__pwned = []; });
    await page.goto(mock.url);
    await page.waitForFunction(() => document.querySelectorAll('#rows tr').length === 3);
    await page.waitForSelector('[data-testid="history"] tbody tr td.subject');
    await page.waitForSelector('[data-testid="audit"] tbody tr td.msg');
    await page.waitForSelector('[data-testid="activity"] li');
    // Injected images, had there been any, asked for x before this one: when its error has
    // fired, theirs have fired too (and run their onerror).
    const settle = () => page.evaluate(() => new Promise((resolve) => {
      const img = new Image();
      img.onerror = resolve;
      img.src = 'x?settle=' + Math.random();
    }));
    await settle();

    const svc = status.services[1];
    const worker = status.services[2];
    const rel = status.release;
    const reason = status.actions.restart.reason;
    const newest = audit.at(-1);
    const found = await page.evaluate(() => {
      const q = (sel) => document.querySelector(sel);
      const text = (sel) => q(sel)?.textContent;
      const attr = (sel, name) => q(sel)?.getAttribute(name);
      const row = document.querySelectorAll('#rows tr')[1];
      const historyRow = q('[data-testid="history"] tbody tr');
      const auditRow = q('[data-testid="audit"] tbody tr');
      const feed = [...document.querySelectorAll('[data-testid="activity"] li')].find((li) => li.textContent.includes('feed-text'));
      return {
        injected: document.querySelectorAll('img, [data-hostile]').length,
        pwned: window.__pwned,
        rowTestid: row?.getAttribute('data-testid'),
        name: row?.querySelector('.svc-name')?.textContent,
        nameSelect: row?.querySelector('.svc-name')?.dataset.select,
        nameTitle: row?.querySelector('.svc-name')?.title,
        stateTestid: row?.querySelector('.badge')?.getAttribute('data-testid'),
        triggerService: row?.querySelector('[data-action="trigger"]')?.dataset.service,
        digestTitle: row?.querySelector('.c-artifact code')?.title,
        error: text('[data-testid="error-worker"]'),
        errorTitle: attr('[data-testid="error-worker"]', 'title'),
        crashLines: text('[data-testid="crash-lines-worker"]'),
        restartReason: attr('[data-testid="action-restart-store"]', 'data-reason'),
        restartTitle: attr('[data-testid="action-restart-store"]', 'title'),
        hint: text('[data-testid="hint-restart"]'),
        logOptions: [...(q('[data-testid="log-service"]')?.options ?? [])].map((o) => o.value),
        repository: text('.rel-repo'),
        ref: text('[data-testid="release"] .ref'),
        releaseError: text('[data-testid="release-error"]'),
        headWhy: text('[data-testid="head-not-deployed"] .why'),
        deployedSubject: text('[data-testid="deployed-subject"]'),
        deployedSubjectTitle: attr('[data-testid="deployed-subject"]', 'title'),
        historySubject: historyRow?.querySelector('.subject')?.textContent,
        historyAuthor: historyRow?.children[2]?.textContent,
        historyHow: historyRow?.querySelector('.how')?.textContent,
        auditEvent: auditRow?.querySelector('.event')?.textContent,
        auditOutcome: auditRow?.children[3]?.textContent,
        auditActor: auditRow?.querySelector('.actor')?.textContent,
        auditMessage: auditRow?.querySelector('.msg')?.textContent,
        auditChange: auditRow?.querySelector('.svc-change .muted')?.textContent,
        feedService: feed?.querySelector('.fs')?.textContent,
        feedOutcome: feed?.querySelector('em')?.textContent,
        feedText: feed?.querySelector('.ft')?.textContent,
      };
    });
    const errorLines = [worker.last_error, ...worker.crash_lines].join('\n');
    const hostile = (where) => `${where} "'><img src=x onerror=window.__pwned.push(this.alt) alt=${where}><b data-hostile>${where}</b>`;
    assert.deepEqual(found, {
      injected: 0,
      pwned: [],
      rowTestid: 'service-row-' + svc.name,
      name: svc.name,
      nameSelect: svc.name,
      nameTitle: 'show the logs of ' + svc.name,
      stateTestid: 'state-' + svc.name,
      triggerService: svc.name,
      digestTitle: svc.artifact_digest,
      error: worker.last_error,
      errorTitle: errorLines,
      crashLines: worker.crash_lines[0],
      restartReason: reason,
      restartTitle: 'restart is not allowed: ' + reason,
      hint: 'restart unavailable: ' + reason,
      logOptions: status.services.map((s) => s.name),
      repository: rel.repository,
      ref: rel.ref,
      releaseError: 'last error ' + rel.last_error,
      headWhy: 'rejected: ' + history.rejected[rel.head],
      deployedSubject: rel.deployed_subject,
      deployedSubjectTitle: rel.deployed_subject,
      historySubject: history.releases[0].subject,
      historyAuthor: history.releases[0].author.replace(/\s*<[^>]*>\s*$/, ''),
      historyHow: history.releases[0].how,
      auditEvent: newest.event,
      auditOutcome: newest.outcome,
      auditActor: newest.actor,
      auditMessage: newest.message,
      auditChange: newest.services[0].change,
      feedService: svc.name,
      feedOutcome: hostile('feed-outcome'),
      feedText: hostile('feed-text') + ' ' + hostile('feed-outcome'),
    });

    // An action's toast: its title names the service, its message is the API's.
    await page.evaluate((name) => [...document.querySelectorAll('button[data-action="trigger"]')]
      .find((b) => b.dataset.service === name)?.click(), svc.name);
    await page.locator('[data-testid="toast"][data-kind="ok"]').waitFor();
    await settle();
    const toast = await page.evaluate(() => ({
      injected: document.querySelectorAll('img, [data-hostile]').length,
      pwned: window.__pwned,
      title: document.querySelector('[data-testid="toast"] .toast-title').textContent,
      message: document.querySelector('[data-testid="toast"] .toast-msg').textContent,
    }));
    assert.deepEqual(toast, { injected: 0, pwned: [], title: 'trigger ' + svc.name, message: hostile('toast') });
    assert.deepEqual(page.problems, []);
  } finally {
    await mock.stop();
  }
});

test('markup reaches the DOM only through html.js', () => {
  // Every other module hands html.js fragments made by html`...`, whose values it escapes;
  // a module that wrote markup itself would bypass that.
  const web = path.join(here, '..', '..', 'web');
  const sinks = /\.innerHTML\b|\.outerHTML\b|insertAdjacentHTML|document\.write|createContextualFragment|DOMParser/;
  const offenders = [];
  for (const file of fs.readdirSync(web).filter((f) => f.endsWith('.js') && f !== 'html.js')) {
    fs.readFileSync(path.join(web, file), 'utf8').split('\n').forEach((line, i) => {
      if (sinks.test(line)) offenders.push(`web/${file}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(offenders, []);
});

test('index.html preloads every module, so they are fetched at once', () => {
  const web = path.join(here, '..', '..', 'web');
  const index = fs.readFileSync(path.join(web, 'index.html'), 'utf8');
  const preloaded = [...index.matchAll(/<link rel="modulepreload" href="([^"]+)">/g)].map((m) => m[1]).sort();
  assert.deepEqual(preloaded, fs.readdirSync(web).filter((f) => f.endsWith('.js')).sort());
});
