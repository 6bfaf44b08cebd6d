// Test 2 of the enumerator app (issue #6): the app is killed (SIGKILL, as when a phone's battery
// dies) in the middle of an interview; started again, it resumes at the same question with
// every answer intact.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchApp, By } from './driver.mjs';
import {
  startServer, sampleAnswers, enrol, unlock, shootAll, waitFor, waitVisible, clickId,
  currentIndex, waitScreen, questionsOnScreen, answer, appPid, clickFresh, firstAssignment,
} from './fieldpost.mjs';

let app;
let server;
after(async () => { await app?.stop(); await server?.stop(); });

test('killed mid-interview, the app resumes at the same question with every answer', { timeout: 300000 }, async () => {
  server = await startServer();
  app = await launchApp({ env: { FIELDPOST_SERVER_URL: server.url } });
  let { driver } = app;
  const { dataDir } = app;
  await enrol(driver, server);
  const assignmentId = await firstAssignment(driver, 'not_started');
  await clickFresh(driver, `.assignment[data-id="${assignmentId}"] .assignment-open`);
  await waitFor(driver, '#interview');

  // Answer the first screens of part A, one question per screen.
  const answers = new Map(sampleAnswers().map((a) => [a.path, a.value]));
  const given = [];
  while (given.length < 6) {
    for (const { path, kind } of await questionsOnScreen(driver)) {
      if (kind === 'note' || !answers.has(path)) continue;
      await answer(driver, path, kind, answers.get(path));
      given.push({ path, kind, value: answers.get(path) });
    }
    const before = await currentIndex(driver);
    await clickId(driver, 'next');
    await waitScreen(driver, before + 1);
  }
  const at = await currentIndex(driver);
  const question = (await questionsOnScreen(driver))[0].path;
  await shootAll(driver, '11-before-kill');

  const pid = appPid(dataDir);
  assert.ok(pid, 'the app process is found by its data folder');
  process.kill(pid, 'SIGKILL');
  await app.stop();

  app = await launchApp({ dataDir, env: { FIELDPOST_SERVER_URL: server.url } });
  driver = app.driver;
  await waitVisible(driver, '#unlock-pin');
  await shootAll(driver, '12-unlock');
  await unlock(driver);
  const again = await waitFor(driver, `.assignment[data-id="${assignmentId}"]`);
  assert.equal(await again.getAttribute('data-state'), 'in_progress');
  await shootAll(driver, '13-assignments-in-progress');
  await clickFresh(driver, `.assignment[data-id="${assignmentId}"] .assignment-open`);
  await waitFor(driver, '#interview');
  assert.equal(await currentIndex(driver), at, 'back at the screen the enumerator was on');
  assert.equal((await questionsOnScreen(driver))[0].path, question);
  await shootAll(driver, '14-resumed');

  // Every answer given before the kill is still there, screen by screen.
  for (let i = at - 1; i >= 0; i--) {
    await clickId(driver, 'back');
    await waitScreen(driver, i);
    for (const { path, kind } of await questionsOnScreen(driver)) {
      const g = given.find((x) => x.path === path);
      if (!g) continue;
      const shown = await driver.executeScript(`
        const root = document.querySelector('#interview .q[data-path="' + arguments[0] + '"]');
        const s = root.querySelector('select.q-select'); if (s) return s.value;
        const c = root.querySelector('input:checked'); if (c) return c.value;
        const t = root.querySelector('.q-input'); return t ? t.value : null;`, path);
      assert.equal(String(shown), String(g.value), `${path} after the restart`);
      g.checked = true;
    }
  }
  assert.ok(given.every((g) => g.checked), 'every answer was looked at');
});
