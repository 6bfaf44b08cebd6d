// Test 3 of the enumerator app (issue #6): a refusal on an official assignment releases its
// reserve, and the enumerator is told which household to visit instead.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchApp, By } from './driver.mjs';
import { startServer, enrol, shootAll, waitVisible, clickId, assignmentList, firstAssignment, startNonResponse } from './fieldpost.mjs';

let app;
let server;
after(async () => { await app?.stop(); await server?.stop(); });

test('a refusal on an official assignment releases its reserve', { timeout: 300000 }, async () => {
  server = await startServer();
  app = await launchApp({ env: { FIELDPOST_SERVER_URL: server.url } });
  const { driver } = app;
  await enrol(driver, server);
  const before = await assignmentList(driver);
  const held = before.filter((a) => a.state === 'reserve_held');
  assert.ok(held.length > 0, 'reserves start held');

  const officialId = await firstAssignment(driver, 'not_started');
  await startNonResponse(driver, officialId, 'refused');
  await shootAll(driver, '15-non-response');
  await clickId(driver, 'nr-submit');
  const banner = await waitVisible(driver, '#nr-released', 20000);
  assert.match(await banner.getText(), /\S/);
  await shootAll(driver, '16-reserve-released');

  const after = await assignmentList(driver);
  assert.equal(after.find((a) => a.id === officialId)?.state, 'non_response');
  const released = after.filter((a) => held.some((h) => h.id === a.id) && a.state === 'not_started');
  assert.equal(released.length, 1, 'exactly one reserve (the refused household\'s pair) is released');
  assert.equal(after.filter((a) => a.state === 'reserve_held').length, held.length - 1);
});
