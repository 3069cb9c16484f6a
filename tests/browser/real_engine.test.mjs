// The web page served by a real engine: `devloop up --http-port PORT` on a temporary project
// of two services made from the test service binary. A saved build input and the trigger
// button are each followed through the page until the service is ready again.
//
//   TANDEM_DEVLOOP=path/to/devloop TANDEM_TEST_SERVICE=path/to/tandem_test_service node --test real_engine.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchBrowser, newPage, freePort, startProcess, waitFor, outDir } from './lib.mjs';
import { pageHeaders } from './page_headers.mjs';

const devloop = process.env.TANDEM_DEVLOOP;
const testService = process.env.TANDEM_TEST_SERVICE;

let browser;
let engine;
let project;
let base;
let appPort;

function projectYaml(ports) {
  const q = JSON.stringify;
  // app: built from src/ (the build copies the test service and its version file into bin/;
  // the rename keeps a running binary's file untouched). web: runs the test service as it is.
  return `version: 1
project: browser-test
services:
  app:
    build:
      command: ${q(`sleep 1 && mkdir -p bin && cp ${testService} bin/svc.new && mv -f bin/svc.new bin/svc && cp src/version.txt bin/version`)}
      inputs: [src/**]
      outputs: [bin/svc, bin/version]
    run: [bin/svc, --port, "\${port}", --version-file, bin/version]
    port: ${ports.app}
    health:
      http: /healthz
      interval: 200ms
  web:
    run: [${q(testService)}, --port, "\${port}", --version-string, web-1]
    port: ${ports.web}
    health:
      http: /healthz
      interval: 200ms
    depends_on: [app]
`;
}

async function version(port) {
  const res = await fetch(`http://127.0.0.1:${port}/version`);
  return (await res.text()).trim();
}

// The states a row's badge went through, recorded in the page as they are rendered.
async function recordStates(page, service) {
  await page.evaluate((name) => {
    window.__states = window.__states || {};
    const seen = (window.__states[name] = []);
    const note = () => {
      const badge = document.querySelector(`[data-testid="state-${name}"]`);
      const state = badge && badge.dataset.state;
      if (state && seen[seen.length - 1] !== state) seen.push(state);
    };
    note();
    new MutationObserver(note).observe(document.getElementById('rows'), { subtree: true, childList: true, attributes: true });
  }, service);
}
const statesOf = (page, service) => page.evaluate((name) => window.__states[name].slice(), service);

// Waits until the row left ready (building or starting) and came back to ready.
async function waitForRollout(page, service, timeoutMs = 30000) {
  return waitFor(`${service} to go building or starting and then ready`, async () => {
    const states = await statesOf(page, service);
    const away = states.findIndex((s) => s === 'building' || s === 'starting');
    return away >= 0 && states.slice(away + 1).includes('ready') && states.at(-1) === 'ready' ? states : null;
  }, timeoutMs);
}

before(async () => {
  assert.ok(devloop && fs.existsSync(devloop), 'TANDEM_DEVLOOP names the devloop binary');
  assert.ok(testService && fs.existsSync(testService), 'TANDEM_TEST_SERVICE names the test service binary');
  project = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-browser-'));
  fs.mkdirSync(path.join(project, 'src'));
  fs.writeFileSync(path.join(project, 'src', 'version.txt'), 'v1\n');
  appPort = await freePort();
  const ports = { app: appPort, web: await freePort() };
  fs.writeFileSync(path.join(project, 'tandem.yaml'), projectYaml(ports));
  const httpPort = await freePort();
  base = `http://127.0.0.1:${httpPort}/`;
  engine = startProcess(devloop, ['up', '-f', path.join(project, 'tandem.yaml'), '--http-port', String(httpPort)],
                        { cwd: project, name: 'devloop up' });
  await waitFor('the engine to serve its API', async () => {
    if (engine.child.exitCode !== null) throw new Error(`devloop up exited (${engine.child.exitCode}):\n${engine.output()}`);
    const res = await fetch(base + 'api/v1/status').catch(() => null);
    return res && res.ok;
  }, 30000, 200).catch((e) => {
    throw new Error(`${e.message}\n--- devloop up said:\n${engine.output()}`);
  });
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (engine) {
    await engine.stop();
    if (process.env.TANDEM_BROWSER_VERBOSE) console.log(engine.output());
  }
  if (project) fs.rmSync(project, { recursive: true, force: true });
});

test('the page follows the real engine: a save, a trigger, the logs', async (t) => {
  const page = await newPage(browser, { width: 1440, height: 940 });
  let t0 = Date.now();
  const step = (what) => {
    t.diagnostic(`${what}: ${Date.now() - t0} ms`);
    t0 = Date.now();
  };
  try {
    // The page's files come with its Content-Security-Policy (the mock sends the same).
    for (const file of ['', 'app.js', 'html.js', 'style.css']) {
      const res = await fetch(base + file);
      assert.equal(res.status, 200, file);
      for (const [name, value] of Object.entries(pageHeaders)) assert.equal(res.headers.get(name), value, `${name} of /${file}`);
    }
    await page.goto(base);
    for (const name of ['app', 'web']) {
      await page.waitForSelector(`[data-testid="service-row-${name}"]`);
      await page.waitForSelector(`[data-testid="state-${name}"][data-state="ready"]`, { timeout: 30000 });
    }
    assert.equal(await page.textContent('[data-testid="tool"]'), 'devloop');
    assert.equal(await page.textContent('[data-testid="policy"]'), 'wip');
    assert.equal(await version(appPort), 'v1');
    await page.waitForSelector('[data-testid="connection"][data-state="live"]');
    step('page loaded, both services ready');

    // Saving a build input rebuilds and restarts app; the row shows it.
    await recordStates(page, 'app');
    const artifact = () => page.$eval('[data-testid="service-row-app"] .c-artifact', (td) => td.querySelector('code')?.title || '');
    const digestBefore = await artifact();
    fs.writeFileSync(path.join(project, 'src', 'version.txt'), 'v2\n');
    const afterSave = await waitForRollout(page, 'app');
    t.diagnostic(`app after the save: ${afterSave.join(' → ')}`);
    await waitFor('app to answer v2', async () => (await version(appPort)) === 'v2', 10000);
    step('saved, rebuilt, ready again');
    const digestAfter = await artifact();
    if (digestBefore || digestAfter) assert.notEqual(digestAfter, digestBefore, 'a new build has a new artifact digest');
    assert.ok(afterSave.includes('building'), 'the build (a second long) shows as building');

    // The trigger button: a toast, then the row goes through a rollout again.
    await recordStates(page, 'app');
    const trigger = page.locator('[data-testid="action-trigger-app"]');
    assert.equal(await trigger.isEnabled(), true);
    await trigger.click();
    const toast = page.locator('[data-testid="toast"]').last();
    await toast.waitFor({ timeout: 30000 });
    assert.equal(await toast.getAttribute('data-kind'), 'ok', `the trigger's toast: ${await toast.textContent()}`);
    const afterTrigger = await waitForRollout(page, 'app');
    t.diagnostic(`app after the trigger: ${afterTrigger.join(' → ')}`);
    assert.ok(afterTrigger.includes('building'), 'the triggered build shows as building');
    step('triggered, ready again');
    await page.waitForSelector('[data-testid="state-web"][data-state="ready"]');
    await page.waitForSelector('[data-testid="activity"] li');
    await page.screenshot({ path: path.join(outDir, 'dashboard.png') });

    // The log pane: each service's lines, from the engine's log stream.
    for (const name of ['web', 'app']) {
      await page.click(`[data-testid="service-row-${name}"] .svc-name`);
      const lines = await waitFor(`the log pane to show ${name}'s lines`, async () => {
        const shown = await page.$$eval('[data-testid="log-pane"] .log-row:not([hidden]) .tx', (els) => els.map((e) => e.textContent));
        return shown.some((l) => l.includes(`${name}[`) && /test_service listening on \d+/.test(l)) ? shown : null;
      }, 15000);
      assert.ok(lines.every((l) => !/ (app|web)\[/.test(l) || l.includes(` ${name}[`)), `only ${name}'s lines: ${lines.join('\n')}`);
      assert.equal(await page.inputValue('[data-testid="log-service"]'), name);
    }
    const stats = await page.evaluate(() => window.tandemStats);
    assert.ok(stats.logLines > 0);
    step('logs of both services shown');
    await page.locator('.logs-panel').screenshot({ path: path.join(outDir, 'logs.png') });
    assert.deepEqual(page.problems, []);
  } catch (e) {
    await page.screenshot({ path: path.join(outDir, 'failure.png'), fullPage: true }).catch(() => {});
    e.message += `\n--- devloop up said:\n${engine.output().slice(-6000)}`;
    throw e;
  }
});
