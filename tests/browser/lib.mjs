// What the browser tests share: Debian's chromium through playwright-core, child processes
// that are always stopped, free ports and waiting.
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const here = path.dirname(fileURLToPath(import.meta.url));
export const outDir = path.join(here, 'out');
fs.mkdirSync(outDir, { recursive: true });

export const chromiumPath = process.env.TANDEM_CHROMIUM || '/usr/bin/chromium';

export async function launchBrowser() {
  if (!fs.existsSync(chromiumPath)) {
    throw new Error(`no chromium at ${chromiumPath} (apt-get install -y chromium, or set TANDEM_CHROMIUM)`);
  }
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

export async function newPage(browser, { width = 1440, height = 900, colorScheme = 'dark' } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, colorScheme, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('console', (m) => {
    // An HTTP error answer is logged by the browser itself; the tests check those answers.
    if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) problems.push('console error: ' + m.text());
  });
  page.problems = problems;
  return page;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// A child process whose output is kept (and printed when a test fails), stopped by stop().
export function startProcess(cmd, args, { cwd, env, name } = {}) {
  const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  const keep = (d) => {
    output += d.toString();
    if (output.length > 2e6) output = output.slice(-1e6);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    name: name || path.basename(cmd),
    output: () => output,
    exited,
    async waitForOutput(re, timeoutMs = 15000) {
      const t0 = Date.now();
      while (Date.now() - t0 < timeoutMs) {
        const m = output.match(re);
        if (m) return m;
        if (child.exitCode !== null) throw new Error(`${this.name} exited (${child.exitCode}) before printing ${re}:\n${output}`);
        await sleep(50);
      }
      throw new Error(`${this.name} did not print ${re} within ${timeoutMs} ms:\n${output}`);
    },
    // SIGTERM to the process group, then SIGKILL if it is still there.
    async stop(graceMs = 8000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try { process.kill(-child.pid, 'SIGTERM'); } catch (e) { /* gone */ }
      const timer = sleep(graceMs).then(() => 'timeout');
      if ((await Promise.race([exited, timer])) === 'timeout') {
        try { process.kill(-child.pid, 'SIGKILL'); } catch (e) { /* gone */ }
        await exited;
      }
    },
  };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(what, fn, timeoutMs = 15000, everyMs = 100) {
  const t0 = Date.now();
  let last;
  while (Date.now() - t0 < timeoutMs) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}` + (last instanceof Error ? `: ${last.message}` : ''));
}

export async function startMock({ services = 3, tool = 'devloop', logLines = 200, token = '', deny = '', hostile = false, csp = true } = {}) {
  const args = [path.join(here, 'mock_server.mjs'), '--port', '0', '--quiet', '--services', String(services),
                '--tool', tool, '--log-lines', String(logLines)];
  if (token) args.push('--token', token);
  if (deny) args.push('--deny', deny);
  if (hostile) args.push('--hostile');
  if (!csp) args.push('--no-csp');
  const proc = startProcess(process.execPath, args, { name: 'mock_server' });
  const m = await proc.waitForOutput(/on (http:\/\/127\.0\.0\.1:\d+\/)/);
  proc.url = m[1];
  return proc;
}
