// The console (crates/console) in Debian's headless Chromium, driven by playwright-core,
// against a real `fieldpost serve --demo` on 127.0.0.1 serving the built console at `/`.
//
// Run by `./dev console-test` (and `./dev test`), which builds the console and the CLI and sets
// FIELDPOST_CLI, FIELDPOST_CONSOLE_DIR and FIELDPOST_SCREENSHOTS. The cases run in order on one
// server: HQ sets up an enumerator and an enrolment code, devices upload, the progress screen
// agrees with `fieldpost stats`, a coordinator is held to their province, everyone signs out.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FIELDPOST = process.env.FIELDPOST_CLI;
const SHOTS = process.env.FIELDPOST_SCREENSHOTS ?? join(ROOT, 'target', 'screenshots', 'console');
const CHROMIUM = process.env.FIELDPOST_CHROMIUM ?? '/usr/bin/chromium';
const SIZES = [[360, 800], [1280, 800]];
const LANGS = ['vi', 'en'];

/** `fieldpost serve --demo` on a free port; resolves once it listens, with what it printed. */
async function startServer() {
  if (!FIELDPOST) throw new Error('FIELDPOST_CLI must name the fieldpost binary (./dev console-test sets it)');
  const dir = mkdtempSync(join(tmpdir(), 'fieldpost-console-'));
  const db = join(dir, 'server.sqlite');
  const args = ['serve', '--demo', '--listen', '127.0.0.1:0', '--db', db, '--data-dir', join(dir, 'data')];
  if (process.env.FIELDPOST_CONSOLE_DIR) args.push('--console-dir', process.env.FIELDPOST_CONSOLE_DIR);
  const proc = spawn(FIELDPOST, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const printed = { admin: null, coord01: null, fingerprint: null };
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not start in 60 s')), 60000);
    proc.once('exit', (c) => reject(new Error(`the server exited with ${c}`)));
    createInterface({ input: proc.stdout }).on('line', (line) => {
      printed.admin ??= /^demo: admin username=admin password=(\S+)/.exec(line)?.[1] ?? null;
      printed.coord01 ??= /^demo: coordinator username=coord01 password=(\S+)/.exec(line)?.[1] ?? null;
      printed.fingerprint ??= /server_fingerprint=(\S+)/.exec(line)?.[1] ?? null;
      const m = /^fieldpost serve: listening on (\S+)/.exec(line);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
  });
  proc.removeAllListeners('exit');
  const stop = () => new Promise((resolve) => {
    if (proc.exitCode !== null) return resolve();
    proc.once('exit', resolve);
    proc.kill('SIGTERM');
  });
  return { url, db, dir, printed, stop };
}

let server;
let browser;
let page;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  server = await startServer();
  assert.ok(server.printed.admin && server.printed.coord01 && server.printed.fingerprint, 'the demo printed its credentials');
  browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'fieldpost-chromium-')), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--disable-sync'],
    viewport: { width: 1280, height: 800 },
    acceptDownloads: true,
  });
  page = browser.pages()[0] ?? await browser.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (server) rmSync(server.dir, { recursive: true, force: true });
});

/** Waits until the console's wasm has drawn its header. */
async function open(path = '/') {
  await page.goto(server.url + path);
  await page.waitForSelector('header.top .langs');
}

async function setLang(lang) {
  await page.click(`#lang-${lang}`);
  await page.waitForFunction((l) => document.documentElement.lang === l, lang);
}

/** Screenshots of what is on screen now, at both sizes and in both languages. */
async function shoot(name, ready = async () => {}) {
  for (const lang of LANGS) {
    await setLang(lang);
    for (const [width, height] of SIZES) {
      await page.setViewportSize({ width, height });
      await ready();
      await page.screenshot({ path: join(SHOTS, `${name}-${lang}-${width}x${height}.png`), fullPage: true });
    }
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  await setLang('vi');
}

async function signIn(username, password) {
  await page.fill('#username', username);
  await page.fill('#password', password);
  await page.click('#sign-in');
  await page.waitForSelector('#sign-out');
}

async function signOut() {
  await page.click('#sign-out');
  await page.waitForSelector('#sign-in');
}

async function nav(screen) {
  await page.click(`#nav-${screen}`);
  await page.waitForSelector(`#screen-${screen}`);
}

/** The signed-in person's bearer token, as the console keeps it. */
const token = () => page.evaluate(() => JSON.parse(sessionStorage.getItem('fieldpost-console-session') ?? 'null')?.token);

/** Reads a CSV the console offers for download, as bytes. */
async function downloadCsv(button) {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
  return readFileSync(await dl.path());
}

test('the console is served at / with its fonts, and Vietnamese comes first', async () => {
  const res = await fetch(server.url + '/');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/html/);
  const wasm = await fetch(server.url + '/fieldpost-console_bg.wasm');
  assert.equal(wasm.headers.get('content-type'), 'application/wasm');
  const font = await fetch(server.url + '/fonts/be-vietnam-pro-vietnamese-400-normal.woff2');
  assert.equal(font.status, 200);
  assert.equal(font.headers.get('content-type'), 'font/woff2');
  await open();
  assert.equal(await page.textContent('#sign-in'), 'Đăng nhập');
  await shoot('sign-in');
  // Nothing from another origin: every request the page made went to the server itself.
  const hosts = await page.evaluate(() => performance.getEntriesByType('resource').map((r) => new URL(r.name).host));
  assert.deepEqual([...new Set(hosts)], [new URL(server.url).host]);
  // A wrong password is refused, in words.
  await page.fill('#username', 'admin');
  await page.fill('#password', 'not-the-password');
  await page.click('#sign-in');
  await page.waitForSelector('.signin .error');
  assert.match(await page.textContent('.signin .error'), /Sai tên đăng nhập hoặc mật khẩu/);
});

test('HQ signs in, creates an enumerator and an enrolment code (QR, typed code, fingerprint)', async () => {
  await open();
  await signIn('admin', server.printed.admin);
  for (const s of ['progress', 'surveys', 'accounts', 'enrol', 'incidents']) {
    assert.ok(await page.isVisible(`#nav-${s}`), `admin sees ${s}`);
  }
  await nav('surveys');
  await page.waitForSelector('#surveys-table tbody tr');
  assert.match(await page.textContent('#surveys-table'), /sipas-2024-demo/);
  await shoot('surveys');

  await nav('accounts');
  await page.waitForSelector('#accounts-table tbody tr');
  await page.fill('#new-username', 'enum9');
  await page.fill('#new-password', 'a-long-password-9');
  await page.selectOption('#new-role', 'enumerator');
  await page.click('#create-account-submit');
  await page.waitForSelector('tr[data-username="enum9"]');
  assert.match(await page.textContent('tr[data-username="enum9"]'), /Điều tra viên/);
  // Disable and enable again; reset the password.
  await page.click('tr[data-username="enum9"] button.disable');
  await page.waitForSelector('tr[data-username="enum9"] button.enable');
  await page.click('tr[data-username="enum9"] button.enable');
  await page.waitForSelector('tr[data-username="enum9"] button.disable');
  await page.click('tr[data-username="enum9"] button.reset-password');
  await page.fill('tr[data-username="enum9"] input.new-password', 'another-password-9');
  await page.click('tr[data-username="enum9"] .reset button:not(.secondary)');
  await page.waitForFunction(() => /Đã đặt lại mật khẩu của enum9/.test(document.querySelector('#screen-accounts .ok')?.textContent ?? ''));
  const signIn9 = await fetch(`${server.url}/api/v1/sessions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'enum9', password: 'another-password-9' }),
  });
  assert.equal(signIn9.status, 200, 'the reset password works');
  const csv = await downloadCsv('#screen-accounts button.csv');
  assert.deepEqual([...csv.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 with a BOM');
  assert.match(csv.toString('utf8'), /enum9,Điều tra viên/);
  await shoot('accounts');

  await nav('enrol');
  await page.waitForSelector('#enrol-enumerator option[value="enum9"]', { state: 'attached' });
  await page.selectOption('#enrol-enumerator', 'enum9');
  await page.click('#make-code');
  await page.waitForSelector('#qr svg');
  assert.ok(await page.isVisible('#qr svg'), 'the QR code is shown');
  const box = await page.locator('#qr svg').boundingBox();
  assert.ok(box.width >= 200 && box.height >= 200, `QR big enough to scan: ${box.width}x${box.height}`);
  const typed = (await page.textContent('#typed-code')).trim();
  assert.ok(typed.length >= 6, typed);
  assert.equal((await page.textContent('#fingerprint')).trim(), server.printed.fingerprint);
  const link = (await page.textContent('#enrol-link')).trim();
  assert.equal(link, `fieldpost://enrol?server=${encodeURIComponent(server.url)}&code=${encodeURIComponent(typed)}&fp=${encodeURIComponent(server.printed.fingerprint)}`);
  await shoot('enrol');
});

test('devices upload; the progress screen shows the same counts as `fieldpost stats`', async () => {
  execFileSync(FIELDPOST, ['simulate', '--server', server.url, '--devices', '2', '--interviews', '6'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  const stats = Object.fromEntries(execFileSync(FIELDPOST, ['stats', '--db', server.db], { encoding: 'utf8' })
    .trim().split('\n').map((l) => l.split(' ')).map(([k, v]) => [k, Number(v)]));
  assert.equal(stats.interviews_duplicate, 0);
  assert.ok(stats.interviews > 0, 'the simulator uploaded interviews');
  const completed = stats.interviews_completed ?? 0;
  const nonResponse = stats.interviews - completed;

  // How long from navigation to the progress table drawn (wasm fetched, compiled, API read).
  await page.goto('about:blank');
  const t0 = Date.now();
  await page.goto(`${server.url}/#/progress`);
  await page.waitForSelector('#progress-table tbody tr');
  console.log(`console: navigation to the progress table drawn in ${Date.now() - t0} ms`);
  await page.click('#refresh');
  await page.waitForFunction((n) => document.querySelector('#total-all')?.textContent === String(n), stats.interviews);
  assert.equal(Number(await page.textContent('#total-completed')), completed);
  assert.equal(Number(await page.textContent('#total-non-response')), nonResponse);
  assert.match(await page.textContent('#screen-progress .rests-on'), new RegExp(`Số phỏng vấn: ${stats.interviews} · số nhóm: 2`));
  assert.match(await page.textContent('#screen-progress .as-of'), /tính đến \d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
  const provinces = await page.$$eval('#progress-table tbody tr td:first-child', (tds) => tds.map((t) => t.textContent));
  assert.deepEqual([...new Set(provinces)].sort(), ['01', '79']);
  const csv = await downloadCsv('#screen-progress button.csv');
  assert.deepEqual([...csv.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  assert.match(csv.toString('utf8'), /^\uFEFFTỉnh,Hoàn thành,Không trả lời,Tổng\r\n/);
  await shoot('progress-admin');
  // Every grouping adds up to the same total.
  for (const by of ['commune', 'stratum', 'enumerator']) {
    await page.click(`#by-${by}`);
    await page.waitForFunction((n) => document.querySelector('#total-all')?.textContent === String(n), stats.interviews);
    await page.waitForFunction((b) => document.querySelector(`#by-${b}`)?.getAttribute('aria-pressed') === 'true', by);
    if (by === 'commune') await shoot('progress-admin-commune');
  }
  // An enumerator's row names the account, not its id. The rows are fetched after the button
  // shows pressed, and the total is the same in every grouping: wait for the rows themselves.
  await page.waitForFunction(() => /sim1-/.test(document.querySelector('#progress-table tbody')?.textContent ?? ''),
    null, { timeout: 15000 });
  assert.match(await page.textContent("#progress-table tbody"), /sim1-/);
  await page.click('#by-province');
  await page.waitForFunction(() => document.querySelector('#by-province')?.getAttribute('aria-pressed') === 'true');
  // HQ narrows to one province.
  await page.selectOption('#province-filter', '79');
  await page.waitForFunction(() => {
    const tds = [...document.querySelectorAll('#progress-table tbody tr td:first-child')];
    return tds.length > 0 && tds.every((t) => t.textContent === '79');
  });

  await nav('incidents');
  await page.waitForSelector('#screen-incidents .basis');
  await shoot('incidents');
  await signOut();
});

test('a coordinator of province 01 sees only province 01; the API refuses 79; sign-out ends the session', async () => {
  await signIn('coord01', server.printed.coord01);
  assert.equal(await page.isVisible('#nav-accounts'), false, 'no accounts screen for a coordinator');
  assert.equal(await page.isVisible('#nav-enrol'), false, 'no enrolment screen for a coordinator');
  await nav('progress');
  await page.waitForSelector('#progress-table tbody tr');
  assert.match(await page.textContent('#own-province'), /01/);
  const provinces = await page.$$eval('#progress-table tbody tr td:first-child', (tds) => tds.map((t) => t.textContent));
  assert.ok(provinces.length > 0);
  assert.deepEqual([...new Set(provinces)], ['01']);
  await shoot('progress-coordinator');
  await page.click('#by-commune');
  await page.waitForFunction(() => document.querySelector('#by-commune')?.getAttribute('aria-pressed') === 'true');
  await page.waitForSelector('#progress-table tbody tr');
  const communeProvinces = await page.$$eval('#progress-table tbody tr td:first-child', (tds) => tds.map((t) => t.textContent));
  assert.deepEqual([...new Set(communeProvinces)], ['01']);

  const t = await token();
  assert.ok(t, 'the console holds a session token');
  const refused = await page.evaluate(async (tok) => {
    const r = await fetch('/api/v1/progress?by=province&province=79', { headers: { authorization: `Bearer ${tok}` } });
    return { status: r.status, body: await r.json() };
  }, t);
  assert.equal(refused.status, 403);
  assert.equal(refused.body.code, 'forbidden');

  await nav('incidents');
  await page.waitForSelector('#screen-incidents .basis');
  await shoot('incidents-coordinator');

  await signOut();
  assert.equal(await token(), undefined, 'the console forgot the token');
  // The server forgot it too (the sign-out request may land just after the click).
  let status = 0;
  for (let i = 0; i < 50 && status !== 401; i++) {
    status = (await fetch(`${server.url}/api/v1/progress?by=province`, { headers: { authorization: `Bearer ${t}` } })).status;
    if (status !== 401) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(status, 401);
});
