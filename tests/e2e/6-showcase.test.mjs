// Test 6 of the enumerator app (issue #6): every kind of question the engine supports and
// repeat rows, through the widgets of the real webview. SIPAS has neither decimals, times,
// drop-downs nor repeats, so a second survey (tests/e2e/showcase/, built as HQ would load it)
// is set up on the demo server through the admin API. The server must then hold exactly what
// was entered, with the removed repeat row gone.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { launchApp, By } from './driver.mjs';
import {
  startServer, serverRows, setUpSurvey, enrol, shootAll, waitFor, waitVisible, clickId, clickFresh,
  answer, errorOf, settled,
} from './fieldpost.mjs';

let app;
let server;
after(async () => { await app?.stop(); await server?.stop(); });

const shown = (driver, path) => waitFor(driver, `#interview .q[data-path="${path}"]`);

async function next(driver, path) {
  await settled(driver);
  await clickId(driver, 'next');
  await shown(driver, path);
}

test('every kind of question and repeat rows reach the server as entered', { timeout: 300000 }, async () => {
  server = await startServer();
  const code = await setUpSurvey(server, {
    code: 'showcase',
    title: 'Mẫu trình diễn FieldPost',
    source: join(import.meta.dirname, 'showcase'),
    enumerator: 'enum9',
    households: 2,
  });
  app = await launchApp({ env: { FIELDPOST_SERVER_URL: server.url } });
  const { driver } = app;
  await enrol(driver, { url: server.url, code, fingerprint: server.fingerprint });
  await clickFresh(driver, '.assignment[data-state="not_started"] .assignment-open');

  // A note and a text.
  await shown(driver, 'gioi_thieu/ho_ten');
  assert.equal(await driver.executeScript(
    "const s = document.getElementById('jump-section'); return s.options[s.selectedIndex].text"), 'Giới thiệu',
    'the jump menu names the section on screen');
  await answer(driver, 'gioi_thieu/ho_ten', 'text', 'Trần Thị Mai');
  await shootAll(driver, '20-showcase-note-text');

  // Numbers, a date and a time; a constraint message, then the correction; a decimal comma.
  await next(driver, 'so_lieu/tuoi');
  await answer(driver, 'so_lieu/tuoi', 'integer', '15');
  await settled(driver);
  assert.match((await errorOf(driver, 'so_lieu/tuoi')) ?? '', /18/, 'the age rule is shown');
  await answer(driver, 'so_lieu/tuoi', 'integer', '42');
  await settled(driver);
  assert.equal(await errorOf(driver, 'so_lieu/tuoi'), null);
  await answer(driver, 'so_lieu/thu_nhap', 'decimal', '7,5');
  await answer(driver, 'so_lieu/ngay_sinh', 'date', '1984-05-17');
  await answer(driver, 'so_lieu/gio_bat_dau', 'time', '08:30');
  await shootAll(driver, '21-showcase-numbers-dates');

  // Radio buttons with a skip, a drop-down, check boxes.
  await next(driver, 'lua_chon/co_dien_thoai');
  assert.equal((await driver.findElements(By.css('#interview .q[data-path="lua_chon/so_dien_thoai"]'))).length, 0,
    'the phone number is asked only of those with a phone');
  await answer(driver, 'lua_chon/co_dien_thoai', 'select_one', 'co');
  await shown(driver, 'lua_chon/so_dien_thoai');
  await answer(driver, 'lua_chon/so_dien_thoai', 'text', '0912345678');
  await answer(driver, 'lua_chon/nghe_nghiep', 'select_one', 'buon_ban');
  await answer(driver, 'lua_chon/kenh', 'select_multiple', ['truyen_hinh', 'mang_xa_hoi']);
  await shootAll(driver, '22-showcase-choices');

  // Repeat rows: two members, a third added by mistake and removed.
  await next(driver, 'thanh_vien[1]/ten_tv');
  await answer(driver, 'thanh_vien[1]/ten_tv', 'text', 'Mai');
  await answer(driver, 'thanh_vien[1]/tuoi_tv', 'integer', '42');
  await answer(driver, 'thanh_vien[1]/quan_he', 'select_one', 'chu_ho');
  await clickId(driver, 'row-add');
  await shown(driver, 'thanh_vien[2]/ten_tv');
  await answer(driver, 'thanh_vien[2]/ten_tv', 'text', 'Minh');
  await answer(driver, 'thanh_vien[2]/tuoi_tv', 'integer', '12');
  await answer(driver, 'thanh_vien[2]/quan_he', 'select_one', 'con');
  await shootAll(driver, '23-showcase-repeat-row');
  await clickId(driver, 'row-add');
  await shown(driver, 'thanh_vien[3]/ten_tv');
  await answer(driver, 'thanh_vien[3]/ten_tv', 'text', 'Nhầm');
  await clickId(driver, 'row-remove');
  await settled(driver);
  assert.equal((await driver.findElements(By.css('#interview .q[data-path^="thanh_vien[3]"]'))).length, 0,
    'the third row is gone');

  // A location typed by hand (no GPS on this desktop), then the closing note.
  while ((await driver.findElements(By.css('#interview .q[data-path="vi_tri"]'))).length === 0) {
    await settled(driver);
    await clickId(driver, 'next');
    await settled(driver);
  }
  await answer(driver, 'vi_tri', 'geopoint', '21.0285 105.8542');
  await shootAll(driver, '24-showcase-location');
  await next(driver, 'cam_on');

  await clickId(driver, 'next');
  await waitVisible(driver, '#complete');
  assert.equal((await driver.findElements(By.css('.problem'))).length, 0, 'nothing left to answer');
  await clickId(driver, 'complete');
  await waitFor(driver, '.assignment[data-state="completed"]', 20000);
  await clickId(driver, 'nav-sync');
  await clickId(driver, 'sync-now');
  await waitVisible(driver, '#sync-result', 60000);

  const rows = serverRows(server.db, `SELECT i.status, i.answers FROM interview i JOIN survey s ON s.id = i.survey_id WHERE s.code = 'showcase'`);
  assert.equal(rows.length, 1, 'exactly one showcase interview on the server');
  assert.equal(rows[0].status, 'completed');
  // Typed as a person types them: the decimal comma arrives as a number, the removed third
  // member is not there, the note has no answer.
  assert.deepEqual(JSON.parse(rows[0].answers), {
    'gioi_thieu/ho_ten': 'Trần Thị Mai',
    'so_lieu/tuoi': 42,
    'so_lieu/thu_nhap': 7.5,
    'so_lieu/ngay_sinh': '1984-05-17',
    'so_lieu/gio_bat_dau': '08:30',
    'lua_chon/co_dien_thoai': 'co',
    'lua_chon/so_dien_thoai': '0912345678',
    'lua_chon/nghe_nghiep': 'buon_ban',
    'lua_chon/kenh': ['truyen_hinh', 'mang_xa_hoi'],
    'thanh_vien[1]/ten_tv': 'Mai',
    'thanh_vien[1]/tuoi_tv': 42,
    'thanh_vien[1]/quan_he': 'chu_ho',
    'thanh_vien[2]/ten_tv': 'Minh',
    'thanh_vien[2]/tuoi_tv': 12,
    'thanh_vien[2]/quan_he': 'con',
    'vi_tri': '21.0285 105.8542 0 0',
  });
});
