// The start screen in the real webview: Vietnamese first, the store round trip through the app
// core, then English. Screenshots go to target/screenshots/ for a person to look at.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { launchApp, screenshot, textOf, By } from './driver.mjs';

let app;
before(async () => { app = await launchApp(); });
after(async () => { await app?.stop(); });

test('the start screen is in Vietnamese and shows the local store', async () => {
  const { driver, dataDir } = app;
  assert.equal(await textOf(driver, 'tagline', /sóng/), 'Khảo sát sự hài lòng của người dân, ngay cả khi không có sóng.');
  // The round trip: the UI asked the core, the core opened SQLite in the app-data folder.
  await textOf(driver, 'store-status', /sẵn sàng/);
  const version = Number(await textOf(driver, 'schema-version'));
  assert.ok(version >= 1, `schema version ${version}`);
  const path = await textOf(driver, 'store-path');
  assert.equal(path, join(dataDir, 'fieldpost.sqlite'));
  assert.ok(existsSync(path), 'the store file exists on disk');
  assert.equal(await driver.findElement(By.css('html')).getAttribute('lang'), 'vi');
  await screenshot(driver, 'start-vi');
});

test('switching to English translates the screen and keeps the store facts', async () => {
  const { driver, dataDir } = app;
  await driver.findElement(By.id('lang-en')).click();
  assert.equal(await textOf(driver, 'tagline', /signal/), 'Citizen satisfaction surveys, even where there is no signal.');
  await textOf(driver, 'store-status', /ready/);
  assert.equal(await driver.findElement(By.id('lang-en')).getAttribute('aria-pressed'), 'true');
  assert.equal(await driver.findElement(By.css('html')).getAttribute('lang'), 'en');
  // Ask the core again from the English screen: same store, same file.
  await driver.findElement(By.id('check-store')).click();
  await textOf(driver, 'store-status', /ready/);
  assert.equal(await textOf(driver, 'store-path'), join(dataDir, 'fieldpost.sqlite'));
  await screenshot(driver, 'start-en');
});

test("the start screen fits a phone's width (360 px) in both languages", async () => {
  const { driver } = app;
  await driver.manage().window().setRect({ width: 360, height: 800 });
  await driver.wait(async () => (await driver.executeScript('return window.innerWidth')) <= 360, 5000);
  for (const lang of ['vi', 'en']) {
    await driver.findElement(By.id(`lang-${lang}`)).click();
    await textOf(driver, 'store-status', lang === 'vi' ? /sẵn sàng/ : /ready/);
    const overflow = await driver.executeScript(
      'return document.documentElement.scrollWidth - document.documentElement.clientWidth');
    assert.equal(overflow, 0, `no horizontal scrolling at 360 px (${lang})`);
    await screenshot(driver, `start-${lang}-360`);
  }
  await driver.manage().window().setRect({ width: 1280, height: 800 });
});

test('the language choice survives a reload', async () => {
  const { driver } = app;
  await driver.navigate().refresh();
  await textOf(driver, 'tagline', /signal/);
  await driver.findElement(By.id('lang-vi')).click();
  await textOf(driver, 'tagline', /sóng/);
});
