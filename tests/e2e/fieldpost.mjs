// What the end-to-end tests share: a real `fieldpost serve --demo` process, the enumerator's
// steps through the real app (enrol, unlock, answer, sync), reading the server's database, and
// screenshots of every screen in both languages at phone and desktop sizes.
import { spawn, execFileSync } from 'node:child_process';
import net from 'node:net';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { By, until, screenshot, appPid } from './driver.mjs';

export { appPid };

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FIELDPOST = process.env.FIELDPOST_CLI;
export const PIN = '246810';

/**
 * Starts `fieldpost serve --demo` on `listen` (default: a free port) with its database in `dir`.
 * Resolves to { url, code (enum1's one-time enrolment code), db, dir, stop }.
 */
export async function startServer({ dir, listen = '127.0.0.1:0' } = {}) {
  if (!FIELDPOST) throw new Error('FIELDPOST_CLI must name the fieldpost binary (./dev e2e sets it)');
  dir ??= mkdtempSync(join(tmpdir(), 'fieldpost-server-'));
  const db = join(dir, 'server.sqlite');
  const proc = spawn(FIELDPOST, ['serve', '--demo', '--listen', listen, '--db', db, '--data-dir', join(dir, 'data')], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let code = null;
  let serverKey = null;
  let fingerprint = null;
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not start in 60 s')), 60000);
    proc.once('exit', (c) => reject(new Error(`the server exited with ${c}`)));
    createInterface({ input: proc.stdout }).on('line', (line) => {
      if (line.includes('username=enum1 ')) code = /enrolment_code=(\S+)/.exec(line)?.[1] ?? null;
      serverKey ??= /^demo: server key (\S+)/.exec(line)?.[1] ?? null;
      fingerprint ??= /server_fingerprint=(\S+)/.exec(line)?.[1] ?? null;
      const m = /^fieldpost serve: listening on (\S+)/.exec(line);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
  });
  proc.removeAllListeners('exit');
  const stop = () => new Promise((resolve) => {
    if (proc.exitCode !== null) return resolve();
    proc.once('exit', resolve);
    proc.kill('SIGKILL');
  });
  return { url, code, serverKey, fingerprint, db, dir, stop };
}

/**
 * A second survey on a demo server, set up through the admin API as HQ would: the XLSForm
 * built from the CSV source in `source` (scripts/build_sipas_form.py), the demo server's key
 * as recipient, an enumerator with `households` official assignments. Resolves to that
 * enumerator's one-time enrolment code.
 */
export async function setUpSurvey(server, { code, title, source, enumerator, households }) {
  const xlsx = join(mkdtempSync(join(tmpdir(), 'fieldpost-form-')), `${code}.xlsx`);
  execFileSync('python3', [join(ROOT, 'scripts', 'build_sipas_form.py'), '--source', source, '--no-codelists', '--out', xlsx]);
  const api = async (method, path, body, type = 'application/json') => {
    const res = await fetch(`${server.url}/api/v1${path}`, {
      method,
      headers: { 'content-type': type, ...(api.token ? { authorization: `Bearer ${api.token}` } : {}) },
      body: type === 'application/json' ? JSON.stringify(body) : body,
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return JSON.parse(text);
  };
  api.token = (await api('POST', '/sessions', { username: 'admin', password: 'fieldpost-demo-admin' })).token;
  const survey = await api('POST', '/surveys', { code, title });
  await api('PUT', `/surveys/${survey.id}/questionnaires/1`, readFileSync(xlsx), 'application/octet-stream');
  await api('POST', `/surveys/${survey.id}/recipients`, { public_key: server.serverKey, purpose: 'server' });
  await api('POST', '/accounts', { username: enumerator, password: 'fieldpost-demo', role: 'enumerator' });
  const rows = ['code,kind,reserve_for,province,commune,village,stratum,enumerator'];
  for (let i = 1; i <= households; i++) rows.push(`${code}-${i},official,,01,00004,Thôn Trình Diễn,urban,${enumerator}`);
  await api('POST', `/surveys/${survey.id}/sample`, rows.join('\n') + '\n', 'text/csv');
  return (await api('POST', '/enrolment-codes', { survey_id: survey.id, enumerator })).code;
}

/** Rows of a query on the server's SQLite database (through Python's sqlite3: Node 20 has none). */
export function serverRows(db, sql) {
  const out = execFileSync('python3', ['-c', `
import json, sqlite3, sys
con = sqlite3.connect(sys.argv[1])
con.row_factory = sqlite3.Row
print(json.dumps([dict(r) for r in con.execute(sys.argv[2])]))
`, db, sql]);
  return JSON.parse(out.toString());
}

/** The SIPAS sample interview: [{path, value}] in questionnaire order. */
export function sampleAnswers() {
  const steps = JSON.parse(readFileSync(join(ROOT, 'assets/forms/sipas/sample-answers.json'), 'utf8'));
  return steps.filter((s) => s.set).map((s) => ({ path: s.set, value: s.value }));
}

export const css = (s) => By.css(s);

export async function waitFor(driver, selector, ms = 15000) {
  return driver.wait(until.elementLocated(By.css(selector)), ms, `${selector} never appeared`);
}

export async function waitVisible(driver, selector, ms = 15000) {
  const el = await waitFor(driver, selector, ms);
  await driver.wait(until.elementIsVisible(el), ms, `${selector} never became visible`);
  return el;
}

/** Types into an input from empty (replacing what it held) and leaves it, so `change` fires. */
export async function type(driver, selector, text) {
  const el = await waitVisible(driver, selector);
  await el.clear();
  await el.sendKeys(text);
  await driver.executeScript(
    "arguments[0].dispatchEvent(new Event('change', {bubbles: true}));", el);
  return el;
}

/** First start: the enrol screen, with the server's address and enum1's code, and a PIN. */
export async function enrol(driver, server) {
  await type(driver, '#enrol-server', server.url);
  await type(driver, '#enrol-code', server.code);
  await type(driver, '#enrol-fingerprint', server.fingerprint);
  await type(driver, '#enrol-pin', PIN);
  await type(driver, '#enrol-pin2', PIN);
  await (await waitVisible(driver, '#enrol-submit')).click();
  await waitFor(driver, '.assignment', 60000);
}

export async function unlock(driver) {
  await type(driver, '#unlock-pin', PIN);
  await (await waitVisible(driver, '#unlock-submit')).click();
  await waitFor(driver, '.assignment', 30000);
}

/** The assignment list entries: [{id, state}] (state as `data-state`). */
export async function assignmentList(driver) {
  return driver.executeScript(`
    return [...document.querySelectorAll('.assignment')].map(e => ({
      id: e.dataset.id, state: e.dataset.state, reserve: e.classList.contains('reserve') || /reserve|dự phòng/i.test(e.textContent),
      text: e.textContent }));`);
}

export async function currentIndex(driver) {
  const el = await waitFor(driver, '#interview');
  return Number(await el.getAttribute('data-index'));
}

/** Waits until the interview shows screen `index` (after back, next or a jump). */
export async function waitScreen(driver, index, ms = 15000) {
  await driver.wait(async () => {
    try { return (await currentIndex(driver)) === index; } catch { return false; }
  }, ms, `screen ${index} never showed`);
}

/** The questions on the current screen: [{path, kind}]. */
export async function questionsOnScreen(driver) {
  return driver.executeScript(`
    return [...document.querySelectorAll('#interview .q[data-path]')]
      .map(e => ({ path: e.dataset.path, kind: e.dataset.kind }));`);
}

const q = (path) => `#interview .q[data-path="${path}"]`;

/**
 * Answers one question through its widget the way a person would (click a choice, type a
 * number), then waits until the core's redrawn screen shows the answer as it was typed.
 */
export async function answer(driver, path, kind, value) {
  if (kind === 'select_one') {
    const sel = await driver.findElements(By.css(`${q(path)} select.q-select`));
    if (sel.length) {
      await setValue(driver, sel[0], value);
    } else {
      await (await waitFor(driver, `${q(path)} input[value="${value}"]`)).click();
    }
    await driver.wait(async () => driver.executeScript(`
      const root = document.querySelector(arguments[0]);
      if (!root) return true; // the answer moved the screen on
      const s = root.querySelector('select.q-select');
      if (s) return s.value === arguments[1];
      const i = root.querySelector('input[value="' + arguments[1] + '"]');
      return !!(i && i.checked);`, q(path), String(value)), 10000, `${path} never showed ${value}`);
  } else if (kind === 'select_multiple') {
    // A quick finger: every box ticked before the first tick's answer is back from the core
    // (one script, so no round trip between the taps). Then what the screen shows once the
    // queue has drained is what the core saved, and every tap must be in it.
    await waitFor(driver, `${q(path)} input[value="${value[0]}"]`);
    await driver.executeScript(`
      for (const v of arguments[1]) {
        const box = document.querySelector(arguments[0] + ' input[value="' + v + '"]');
        if (!box.checked) box.click();
      }`, q(path), value);
    await settled(driver);
    const ticked = await driver.executeScript(`
      return [...document.querySelectorAll(arguments[0] + ' input[type=checkbox]:checked')].map(b => b.value);`, q(path));
    if (JSON.stringify([...ticked].sort()) !== JSON.stringify([...value].sort())) {
      throw new Error(`${path}: ticked ${JSON.stringify(value)}, the saved answer shows ${JSON.stringify(ticked)}`);
    }
  } else if (kind === 'geopoint') {
    const [lat, lon] = String(value).split(/\s+/);
    await type(driver, `${q(path)} .q-lat`, lat);
    await type(driver, `${q(path)} .q-lon`, lon);
    await settled(driver);
  } else if (kind === 'date' || kind === 'time') {
    await setValue(driver, await waitFor(driver, `${q(path)} .q-input`), value);
    await driver.wait(async () => (await driver.findElement(By.css(`${q(path)} .q-input`)).getAttribute('value')) === String(value),
      10000, `${path} never showed ${value}`);
  } else {
    await type(driver, `${q(path)} .q-input`, String(value));
    await driver.wait(async () => {
      const els = await driver.findElements(By.css(`${q(path)} .q-input`));
      return els.length === 0 || (await els[0].getAttribute('value')) === String(value);
    }, 10000, `${path} never showed ${value}`);
  }
}

/** Waits until every queued answer and move has reached the core (`html[data-saving]` gone). */
export async function settled(driver, ms = 10000) {
  await driver.wait(async () => driver.executeScript(
    "return !document.documentElement.hasAttribute('data-saving')"), ms, 'answers never finished saving');
}

/**
 * Sets a select, date or time input and fires `change`, as picking from its native popup does
 * (WebDriver cannot drive those popups).
 */
export async function setValue(driver, el, value) {
  await driver.executeScript(
    "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('change', {bubbles: true}));",
    el, String(value));
}

/** Opens the non-response dialog of assignment `id` and picks `code` (not yet submitted). */
export async function startNonResponse(driver, id, code) {
  await clickFresh(driver, `.assignment[data-id="${id}"] .nr-open`);
  await setValue(driver, await waitVisible(driver, '#nr-code'), code);
}

/** The error message shown under a question, or null. */
export async function errorOf(driver, path) {
  const els = await driver.findElements(By.css(`${q(path)} .q-error`));
  return els.length ? els[0].getText() : null;
}

/**
 * Clicks the element `selector` names, finding it again if the page redrew it in between (a
 * list that reloads): a person taps what is on screen now, not what was there a moment ago.
 */
export async function clickFresh(driver, selector, ms = 15000) {
  await driver.wait(async () => {
    try {
      await (await driver.findElement(By.css(selector))).click();
      return true;
    } catch (e) {
      if (e.name === 'StaleElementReferenceError' || e.name === 'NoSuchElementError') return false;
      throw e;
    }
  }, ms, `${selector} could not be clicked`);
}

/**
 * A weak link at `address` (host:port): connections are accepted and never answered.
 * `reached` resolves at the first connection; `close()` drops them all, as a lost signal does.
 */
export async function silentServer(address) {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  const held = [];
  let reach;
  const reached = new Promise((r) => { reach = r; });
  const server = net.createServer((sock) => { held.push(sock); sock.on('error', () => {}); reach(); });
  await new Promise((ok, fail) => { server.once('error', fail); server.listen(port, host, ok); });
  return {
    reached,
    close: () => new Promise((ok) => { for (const s of held) s.destroy(); server.close(() => ok()); }),
  };
}

/**
 * The text of `#id`, or null while it is not on screen (a screen still loading its data, or
 * redrawn between finding and reading): for waits, which must not fail on either.
 */
export async function textOf(driver, id) {
  const els = await driver.findElements(By.id(id));
  if (!els.length) return null;
  try {
    return await els[0].getText();
  } catch (e) {
    if (e.name === 'StaleElementReferenceError' || e.name === 'NoSuchElementError') return null;
    throw e;
  }
}

/** The id of the first assignment in `state` (its `data-state`). */
export async function firstAssignment(driver, state) {
  await waitFor(driver, `.assignment[data-state="${state}"]`);
  return driver.executeScript(
    'return document.querySelector(arguments[0]).dataset.id', `.assignment[data-state="${state}"]`);
}

export async function clickId(driver, id) {
  await (await waitVisible(driver, `#${id}`)).click();
}

const SIZES = [[360, 800], [1280, 800]];

/**
 * Screenshots of what is on screen now, in Vietnamese and English, at 360x800 and 1280x800:
 * target/screenshots/<name>-<vi|en>-<width>.png. Checks that nothing overflows sideways at
 * either width. Leaves the app in Vietnamese at 1280x800.
 */
export async function shootAll(driver, name) {
  for (const lang of ['en', 'vi']) {
    // Through the page's own click(): a modal dialog (non-response) covers the header, and a
    // person would not switch language there, but its screenshots are wanted in both.
    await driver.executeScript('arguments[0].click()', await waitFor(driver, `#lang-${lang}`));
    await driver.wait(async () => (await driver.findElement(By.css('html')).getAttribute('lang')) === lang, 5000);
    for (const [width, height] of SIZES) {
      await driver.manage().window().setRect({ width, height });
      await driver.wait(async () => Math.abs((await driver.executeScript('return window.innerWidth')) - width) <= 16, 5000);
      // Layout follows a resize a frame or two later: give it up to 3 s to settle.
      let overflow = 0;
      for (let i = 0; i < 30; i++) {
        overflow = await driver.executeAsyncScript(`
          const done = arguments[arguments.length - 1];
          requestAnimationFrame(() => requestAnimationFrame(() =>
            done(document.documentElement.scrollWidth - document.documentElement.clientWidth)));`);
        if (overflow <= 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      if (overflow > 0) throw new Error(`${name}: ${overflow} px of horizontal scrolling at ${width} px (${lang})`);
      await screenshot(driver, `${name}-${lang}-${width}`);
    }
  }
}
