// Benchmarks of the real app in its webview (run by `./dev bench`, not by `./dev test`):
//   BENCH app_cold_start_to_first_screen <ms> ms  (process start to the enrol screen drawn;
//                                                  median of 3 fresh starts)
//   BENCH app_answer_to_next_question_p50|p99 <ms> ms  (in the page: a tap on a choice, saved by
//                                                  the core, then Next, until the next screen is painted)
import { launchApp, By } from './driver.mjs';
import { startServer, enrol, waitFor, waitVisible, currentIndex, waitScreen, questionsOnScreen, answer, sampleAnswers } from './fieldpost.mjs';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.round((s.length - 1) * p))]; };

const starts = [];
for (let i = 0; i < 3; i++) {
  const t0 = performance.now();
  const app = await launchApp();
  await waitVisible(app.driver, '#enrol-server', 60000);
  await app.driver.executeAsyncScript('const done = arguments[arguments.length - 1]; requestAnimationFrame(() => done());');
  starts.push(performance.now() - t0);
  await app.stop();
}
console.log(`BENCH app_cold_start_to_first_screen ${median(starts).toFixed(0)} ms`);

const server = await startServer();
const app = await launchApp({ env: { FIELDPOST_SERVER_URL: server.url } });
const { driver } = app;
try {
  await enrol(driver, server);
  await (await driver.findElement(By.css('.assignment[data-state="not_started"] .assignment-open'))).click();
  await waitFor(driver, '#interview');
  const answers = new Map(sampleAnswers().map((a) => [a.path, a.value]));
  // Timed inside the page (no WebDriver round trips in the figure): tap the choice, tap Next,
  // until the next screen is drawn (its index changed and a frame was painted).
  const times = [];
  for (let n = 0; n < 20; n++) {
    const qs = (await questionsOnScreen(driver)).filter((q) => q.kind !== 'note' && answers.has(q.path));
    const before = await currentIndex(driver);
    if (qs.length === 1 && qs[0].kind === 'select_one'
        && (await driver.findElements(By.css(`#interview .q[data-path="${qs[0].path}"] input[value="${answers.get(qs[0].path)}"]`))).length) {
      const ms = await driver.executeAsyncScript(`
        const [path, value, before, done] = arguments;
        const t0 = performance.now();
        document.querySelector('#interview .q[data-path="' + path + '"] input[value="' + value + '"]').click();
        document.getElementById('next').click();
        const wait = () => {
          const iv = document.getElementById('interview');
          if (iv && Number(iv.dataset.index) !== before) requestAnimationFrame(() => done(performance.now() - t0));
          else requestAnimationFrame(wait);
        };
        wait();`, qs[0].path, String(answers.get(qs[0].path)), before);
      times.push(ms);
      await waitScreen(driver, before + 1);
      continue;
    }
    for (const q of qs) await answer(driver, q.path, q.kind, answers.get(q.path));
    await (await driver.findElement(By.id('next'))).click();
    await waitScreen(driver, before + 1);
  }
  console.log(`BENCH app_answer_to_next_question_p50 ${pct(times, 0.5).toFixed(0)} ms`);
  console.log(`BENCH app_answer_to_next_question_p99 ${pct(times, 0.99).toFixed(0)} ms`);
} finally {
  await app.stop();
  await server.stop();
}
