// Opens a `molearn report` page in headless Chromium (Debian's, never a
// downloaded one), offline, and checks that every section has drawn: each
// plot div holds plotly's svg.main-svg with at least one trace that has
// points, each table has rows, and a section with neither says in a note that
// its content is not available. Writes a full-page screenshot.
//
//   node tests/browser/check_report.mjs report.html shot.png
//
// Exit 0: every section drew; 1: a list of what did not; 77: cannot run
// (no Chromium or playwright-core), as ctest's skip code.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { findChromium } from './headless_chromium.mjs';

const [htmlPath, shotPath] = process.argv.slice(2);
if (!htmlPath || !shotPath) {
  console.error('usage: node check_report.mjs report.html screenshot.png');
  process.exit(2);
}
const { chromium, executablePath: chromiumPath } = findChromium();

// In the page: what each section shows, and what is missing.
function inspectSections() {
  const problems = [];
  const summary = [];
  for (const section of document.querySelectorAll('section.report-section')) {
    const title = section.querySelector('h2')?.textContent ?? section.id;
    const plots = [...section.querySelectorAll('div.plot')];
    const tables = [...section.querySelectorAll('table')];
    const notes = [...section.querySelectorAll('.note.unavailable')].map((n) => n.textContent);
    let drawn = 0;
    for (const plot of plots) {
      const svg = plot.querySelector('svg.main-svg');
      const traces = (plot.data || []).filter((t) =>
        ['x', 'y', 'z'].some((k) => Array.isArray(t[k]) && t[k].flat().some((v) => v !== null && Number.isFinite(v))));
      if (!svg) problems.push(`${title}: plot ${plot.id} has no svg.main-svg (not drawn)`);
      else if (traces.length === 0) problems.push(`${title}: plot ${plot.id} has no data points`);
      else if (plot.classList.contains('failed')) problems.push(`${title}: plot ${plot.id} failed: ${plot.textContent}`);
      else drawn += 1;
    }
    for (const table of tables) {
      if (table.querySelectorAll('tbody tr').length === 0) problems.push(`${title}: a table has no rows`);
    }
    const saysUnavailable = notes.some((n) => /not available/i.test(n));
    if (plots.length === 0 && tables.length === 0 && !saysUnavailable)
      problems.push(`${title}: empty (no plot, no table, no "not available" note)`);
    summary.push(`${title}: ${drawn} plots, ${tables.length} tables, ${notes.length} notes`);
  }
  if (summary.length === 0) problems.push('the page has no section.report-section');
  return { problems, summary };
}

const browser = await chromium.launch({
  executablePath: chromiumPath,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
const external = [];
const errors = [];
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, offline: true });
  const page = await context.newPage();
  // The report must open offline: record (and refuse) every request that is
  // not the file itself or inline data.
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:') || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
    external.push(url);
    return route.abort();
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(pathToFileURL(path.resolve(htmlPath)).href, { waitUntil: 'load' });
  // Plotly draws synchronously after load, but give slow machines time.
  await page
    .waitForFunction(
      () => [...document.querySelectorAll('div.plot')].every((d) => d.querySelector('svg.main-svg') || d.classList.contains('failed')),
      null,
      { timeout: 60000 },
    )
    .catch(() => {});
  const { problems, summary } = await page.evaluate(inspectSections);
  await page.screenshot({ path: shotPath, fullPage: true });
  for (const line of summary) console.log(`section ${line}`);
  for (const url of external) problems.push(`the page requested an external resource: ${url}`);
  for (const e of errors) problems.push(`JavaScript error: ${e}`);
  if (problems.length) {
    console.log('NOT DRAWN:');
    for (const p of problems) console.log(`  ${p}`);
    process.exitCode = 1;
  } else {
    console.log(`every section drew; screenshot ${shotPath}`);
  }
} finally {
  await browser.close();
}
