// Starts the built FieldPost app in its real webview through tauri-driver (which runs Debian's
// WebKitWebDriver) and hands back a selenium-webdriver session. Run under Xvfb (see ./dev e2e).
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { Builder, By, until } from 'selenium-webdriver';

export { By, until };

const APP = process.env.FIELDPOST_APP;
const SHOTS = process.env.FIELDPOST_SCREENSHOTS ?? 'target/screenshots';

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.end(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`tauri-driver did not listen on ${port} within ${ms} ms`);
}

/**
 * Launches the app, with a fresh data folder unless `dataDir` names one (a restart). Returns
 * { driver, dataDir, stop }. `env` adds variables for the app (tauri-driver passes its
 * environment on to the app).
 */
export async function launchApp({ env = {}, dataDir } = {}) {
  if (!APP) throw new Error('FIELDPOST_APP must name the built app binary (./dev e2e sets it)');
  dataDir ??= mkdtempSync(join(tmpdir(), 'fieldpost-e2e-'));
  const port = await freePort();
  const nativePort = await freePort();
  const proc = spawn('tauri-driver', ['--port', String(port), '--native-port', String(nativePort)], {
    env: { ...process.env, FIELDPOST_DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  await waitForPort(port, 15000);
  const driver = await new Builder()
    .usingServer(`http://127.0.0.1:${port}/`)
    .withCapabilities({ browserName: 'wry', 'tauri:options': { application: APP } })
    .build();
  // Name the WebDriver command in its errors: selenium's stacks stop at its own code, and
  // WebKitWebDriver reports an element a redraw replaced as "no such element" with no message.
  const execute = driver.execute.bind(driver);
  driver.execute = async (command) => {
    try {
      return await execute(command);
    } catch (e) {
      e.message = `${e.message} [${command.getName()} ${JSON.stringify(command.getParameters()).slice(0, 300)}]`;
      throw e;
    }
  };
  const stop = async () => {
    try { await driver.quit(); } catch { /* the app may already be gone (killed on purpose) */ }
    proc.kill();
    // An app the driver did not close (its session broken) must not outlive the test: it holds
    // the test's stderr open, and the test runner would wait for it forever.
    for (let i = 0; i < 50; i++) {
      const pid = appPid(dataDir);
      if (!pid) break;
      try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return { driver, dataDir, stop };
}

/** Saves a PNG of the window under target/screenshots/NAME.png and returns its path. */
export async function screenshot(driver, name) {
  mkdirSync(SHOTS, { recursive: true });
  // The DOM can hold the text before WebKit has painted it: wait for the shipped fonts and two
  // animation frames, so the picture shows what a person sees.
  await driver.executeAsyncScript(`
    const done = arguments[arguments.length - 1];
    document.fonts.ready.then(() => requestAnimationFrame(() => requestAnimationFrame(() => done())));
  `);
  const path = join(SHOTS, `${name}.png`);
  writeFileSync(path, Buffer.from(await driver.takeScreenshot(), 'base64'));
  return path;
}

/** Waits until the element with `id` shows text matching `re`, and returns that text. */
export async function textOf(driver, id, re, ms = 10000) {
  const el = await driver.wait(until.elementLocated(By.id(id)), ms);
  if (re) await driver.wait(async () => re.test(await el.getText()), ms, `#${id} never matched ${re}`);
  return el.getText();
}

/** The app's process id for a data folder (its environment names it), or null. */
export function appPid(dataDir) {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmd.includes('fieldpost-app')) continue;
      const env = readFileSync(`/proc/${pid}/environ`, 'utf8');
      if (env.split('\0').includes(`FIELDPOST_DATA_DIR=${dataDir}`)) return Number(pid);
    } catch { /* gone, or not ours */ }
  }
  return null;
}
