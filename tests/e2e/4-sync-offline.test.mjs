// Test 4 of the enumerator app (issue #6): syncing while the server is down shows a clear error
// and keeps everything on the device; while a silent server holds the upload, the enumerator
// keeps working; once the server is back, the same button succeeds.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchApp, By } from './driver.mjs';
import {
  startServer, serverRows, enrol, shootAll, waitFor, waitVisible, clickId, clickFresh, firstAssignment, startNonResponse,
  silentServer, sampleAnswers, textOf, questionsOnScreen, answer, settled, waitScreen,
} from './fieldpost.mjs';

let app;
let server;
let silent;
after(async () => { await app?.stop(); await server?.stop(); await silent?.close(); });

test('sync with the server down: a clear error, work goes on while a sync waits, success once it is back', { timeout: 300000 }, async () => {
  server = await startServer();
  app = await launchApp({ env: { FIELDPOST_SERVER_URL: server.url } });
  const { driver } = app;
  await enrol(driver, server);

  // Something to send: a household that moved away (a final non-response).
  const id = await firstAssignment(driver, 'not_started');
  await startNonResponse(driver, id, 'moved');
  await clickId(driver, 'nr-submit');
  await driver.wait(async () => (await driver.findElements(By.css('.assignment[data-state="non_response"]'))).length === 1, 20000);

  const address = server.url.replace(/^http:\/\//, '');
  const dir = server.dir;
  await server.stop();

  await clickId(driver, 'nav-sync');
  await driver.wait(async () => (await textOf(driver, 'sync-pending')) === '1', 10000, 'one interview to send');
  await clickId(driver, 'sync-now');
  await driver.wait(async () => /kết nối|mạng|sóng/i.test((await textOf(driver, 'sync-error')) ?? ''), 60000,
    'the message says the connection failed, in Vietnamese');
  await driver.wait(async () => (await textOf(driver, 'sync-pending')) === '1', 10000, 'nothing left the device');
  await shootAll(driver, '17-sync-server-down');

  // A weak link: the server takes the upload and says nothing. The enumerator goes on working
  // meanwhile: the list, an interview and an answer do not wait for the network.
  silent = await silentServer(address);
  await clickId(driver, 'sync-now');
  await Promise.race([silent.reached, new Promise((_, fail) => setTimeout(() => fail(new Error('the sync never reached the server')), 30000))]);
  const busy = async () => (await driver.findElement(By.id('nav-sync')).getAttribute('aria-busy')) === 'true';
  await driver.wait(busy, 10000, 'the sync tab shows a sync running');
  await clickId(driver, 'nav-assignments');
  await clickFresh(driver, '.assignment[data-state="not_started"] .assignment-open');
  await waitFor(driver, '#interview');
  const answers = new Map(sampleAnswers().map((a) => [a.path, a.value]));
  let first;
  for (let screen = 0; !first && screen < 5; screen++) {
    [first] = (await questionsOnScreen(driver)).filter((q) => answers.has(q.path));
    if (!first) {
      await clickId(driver, 'next');
      await waitScreen(driver, screen + 1);
    }
  }
  assert.ok(first, 'one of the first screens has a question to answer');
  await answer(driver, first.path, first.kind, answers.get(first.path));
  await settled(driver);
  assert.ok(await busy(), 'the answer was saved while the sync still waited on the server');
  await shootAll(driver, '19-working-while-syncing');
  await silent.close();
  await clickId(driver, 'nav-sync');
  await waitVisible(driver, '#sync-error', 60000);
  await driver.wait(async () => !(await busy()), 10000, 'the sync ended');
  await driver.wait(async () => (await textOf(driver, 'sync-pending')) === '1', 10000, 'still waiting to be sent');

  server = await startServer({ dir, listen: address });
  await clickId(driver, 'sync-now');
  await waitVisible(driver, '#sync-result', 60000);
  await driver.wait(async () => (await textOf(driver, 'sync-pending')) === '0', 20000, 'nothing left to send');
  await shootAll(driver, '18-sync-recovered');
  const rows = serverRows(server.db, 'SELECT status FROM interview');
  assert.equal(rows.length, 1);
  assert.equal(rows[0].status, 'moved');
});
