// Keyboard use on a desktop (issue #6: "usable by touch and keyboard"): from the assignment list
// to an answered question and the next screen with Tab, Enter and Space only.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Key } from 'selenium-webdriver';
import { launchApp } from './driver.mjs';
import { startServer, enrol, waitFor, currentIndex, waitScreen } from './fieldpost.mjs';

let app;
let server;
after(async () => { await app?.stop(); await server?.stop(); });

/** Presses Tab until the focused element matches `selector` (at most `max` times). */
async function tabTo(driver, selector, max = 40) {
  for (let i = 0; i < max; i++) {
    if (await driver.executeScript('return !!document.activeElement && document.activeElement.matches(arguments[0])', selector)) return;
    await driver.actions().sendKeys(Key.TAB).perform();
  }
  throw new Error(`Tab never reached ${selector}`);
}

test('an interview can be opened, answered and moved on with the keyboard alone', { timeout: 300000 }, async () => {
  server = await startServer();
  app = await launchApp({ env: { FIELDPOST_SERVER_URL: server.url } });
  const { driver } = app;
  await enrol(driver, server);
  await driver.executeScript('document.activeElement && document.activeElement.blur()');

  await tabTo(driver, '.assignment-open');
  await driver.actions().sendKeys(Key.ENTER).perform();
  await waitFor(driver, '#interview');
  // Screen 1 is the introduction; Next moves on.
  await tabTo(driver, '#next');
  await driver.actions().sendKeys(Key.ENTER).perform();
  await waitScreen(driver, 1);
  // A1 (province): a choice list reached by Tab, picked with the keyboard.
  await tabTo(driver, '#interview .q[data-path="phan_a/tinh"] select, #interview .q[data-path="phan_a/tinh"] input');
  const tag = await driver.executeScript('return document.activeElement.tagName');
  if (tag === 'SELECT') {
    await driver.actions().sendKeys(Key.ARROW_DOWN).perform();
    await driver.executeScript("document.activeElement.dispatchEvent(new Event('change', {bubbles: true}))");
  } else {
    await driver.actions().sendKeys(Key.SPACE).perform();
  }
  await driver.wait(async () => driver.executeScript(`
    const q = document.querySelector('#interview .q[data-path="phan_a/tinh"]');
    const s = q.querySelector('select'); if (s) return s.value !== '';
    return !!q.querySelector('input:checked');`), 10000, 'the keyboard did not pick a province');
  await tabTo(driver, '#next');
  await driver.actions().sendKeys(Key.ENTER).perform();
  await waitScreen(driver, 2);
  assert.equal(await currentIndex(driver), 2);
});
