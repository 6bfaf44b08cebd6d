// Test 7 (issue #12): an interview the server refuses for good is set aside, the Sync screen
// names its household and says what to do, the rest of the sync goes on; once the server has
// what the interview needs (HQ loads the questionnaire version back), the next sync sends it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { launchApp, By } from './driver.mjs';
import {
  startServer, serverRows, enrol, shootAll, waitVisible, clickId, firstAssignment, startNonResponse, textOf,
} from './fieldpost.mjs';

let app;
let server;
after(async () => { await app?.stop(); await server?.stop(); });

/** Runs one write on the stopped server's SQLite database (HQ's side of the story). */
function serverWrite(db, sql) {
  execFileSync('python3', ['-c', `
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
con.execute(sys.argv[2])
con.commit()
`, db, sql]);
}

test('a refused interview is set aside with its household named, and goes once the server can take it', { timeout: 300000 }, async () => {
  server = await startServer();
  app = await launchApp({ env: { FIELDPOST_SERVER_URL: server.url } });
  const { driver } = app;
  await enrol(driver, server);
  const id = await firstAssignment(driver, 'not_started');
  const household = await driver.executeScript(
    'return document.querySelector(arguments[0]).textContent', `.assignment[data-id="${id}"] .a-name`);
  await startNonResponse(driver, id, 'moved');
  await clickId(driver, 'nr-submit');
  await driver.wait(async () => (await driver.findElements(By.css('.assignment[data-state="non_response"]'))).length === 1, 20000);

  // HQ withdraws the questionnaire version the interview was made with (a restart, so the
  // server has no cached copy): the interview is refused for good.
  const { dir } = server;
  const address = server.url.replace(/^http:\/\//, '');
  await server.stop();
  serverWrite(server.db, "UPDATE questionnaire SET version = version || '-withdrawn'");
  server = await startServer({ dir, listen: address });

  await clickId(driver, 'nav-sync');
  await clickId(driver, 'sync-now');
  const item = await waitVisible(driver, '#sync-held .held-item', 60000);
  assert.equal(await item.getAttribute('data-reason'), 'questionnaire_mismatch');
  const text = await item.getText();
  assert.ok(household, 'the list names the household');
  assert.ok(text.includes(household.trim()), `the household is named: ${text}`);
  assert.match(text, /phiên bản bảng hỏi/i, 'the reason is said in Vietnamese');
  assert.equal(serverRows(server.db, 'SELECT id FROM interview').length, 0);
  await shootAll(driver, '20-sync-held');

  // HQ loads the version again: the next sync sends the interview, and the list clears.
  await server.stop();
  serverWrite(server.db, "UPDATE questionnaire SET version = replace(version, '-withdrawn', '')");
  server = await startServer({ dir, listen: address });
  await clickId(driver, 'sync-now');
  await waitVisible(driver, '#sync-result', 60000);
  await driver.wait(async () => (await driver.findElements(By.css('#sync-held'))).length === 0, 20000, 'nothing held');
  await driver.wait(async () => (await textOf(driver, 'sync-pending')) === '0', 20000, 'nothing left to send');
  const rows = serverRows(server.db, 'SELECT status FROM interview');
  assert.deepEqual(rows.map((r) => r.status), ['moved']);
});
