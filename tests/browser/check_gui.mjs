// Drives the page of a running `molearn gui` server in headless Chromium
// (Debian's, never a downloaded one) the way a user would: waits for the
// latent map, clicks two waypoints on it, makes a straight 6-step path,
// checks the 3-D viewer holds 6 frames, moves the step slider, checks the
// metrics plot, downloads the path as PDB (6 models), then asks for a path
// the server refuses and checks its message shows in the error banner, and
// finally starts a new map and cancels it if it runs as a job. Fails on any
// request that leaves the server's origin (the page must work offline), on
// console errors and on page errors. Writes a screenshot (1400x900) once the
// path is shown.
//
//   node tests/browser/check_gui.mjs http://127.0.0.1:8050/ shot.png
//
// Exit 0: all worked; 1: a list of what did not; 77: cannot run (no Chromium
// or playwright-core), as ctest's skip code.
import { readFileSync } from 'node:fs';
import { findChromium } from './headless_chromium.mjs';

const STEPS = 6;
const COARSE_GRID = 10; // a map cheap enough to compute while the test waits
const T = { short: 15000, long: 240000 };

const [url, shotPath] = process.argv.slice(2);
if (!url || !shotPath) {
  console.error('usage: node check_gui.mjs URL screenshot.png');
  process.exit(2);
}
const { chromium, executablePath: chromiumPath } = findChromium();

const origin = new URL(url).origin;
const problems = [];
const summary = [];
const external = [];
const errors = [];
const timings = [];
// Console errors the deliberate failure may cause ("Failed to load resource:
// ... status of 400") are allowed for the API, and only during that step.
let allowApiErrors = false;

const tid = (id) => `[data-testid="${id}"]`;
const gui = (page, expr) => page.evaluate(expr);

async function bannerText(page) {
  return page.evaluate(() => {
    const b = document.querySelector('[data-testid="error-banner"]');
    return b && !b.hidden && b.offsetParent !== null ? b.textContent.replace(/\s+/g, ' ').replace(/×\s*$/, '').trim() : '';
  });
}

// Pixel position (page coordinates) of plane point (x, y) on the map.
async function mapPixel(page, x, y) {
  return page.evaluate(
    ([x, y]) => {
      const d = document.querySelector('[data-testid="map"]');
      const fl = d._fullLayout;
      const bb = d.getBoundingClientRect();
      return { px: bb.left + fl.xaxis._offset + fl.xaxis.l2p(x), py: bb.top + fl.yaxis._offset + fl.yaxis.l2p(y) };
    },
    [x, y],
  );
}

// Two points on the map far (in pixels) from every trace's markers and from the
// legend, so that a click lands on the heatmap itself.
async function pickClickPoints(page) {
  return page.evaluate(() => {
    const d = document.querySelector('[data-testid="map"]');
    const fl = d._fullLayout;
    const xa = fl.xaxis;
    const ya = fl.yaxis;
    const marks = [];
    for (const t of d.data) {
      if (t.type !== 'scatter' || !Array.isArray(t.x)) continue;
      t.x.forEach((x, i) => marks.push([xa.l2p(x), ya.l2p(t.y[i])]));
    }
    const legend = d.querySelector('.legend');
    const lb = legend ? legend.getBoundingClientRect() : null;
    const bb = d.getBoundingClientRect();
    const cands = [];
    for (let i = 1; i < 12; i++)
      for (let j = 1; j < 12; j++) {
        const px = (xa._length * i) / 12;
        const py = (ya._length * j) / 12;
        const ax = bb.left + xa._offset + px;
        const ay = bb.top + ya._offset + py;
        if (lb && ax >= lb.left - 10 && ax <= lb.right + 10 && ay >= lb.top - 10 && ay <= lb.bottom + 10) continue;
        const near = marks.reduce((m, [mx, my]) => Math.min(m, Math.hypot(mx - px, my - py)), Infinity);
        cands.push({ x: xa.p2l(px), y: ya.p2l(py), px, py, near });
      }
    const ok = cands.filter((c) => c.near > 28);
    const pool = ok.length >= 2 ? ok : cands.sort((a, b) => b.near - a.near);
    // the pair farthest apart among the free points
    let best = null;
    for (const a of pool)
      for (const b of pool) {
        const dd = Math.hypot(a.px - b.px, a.py - b.py);
        if (!best || dd > best.dd) best = { a, b, dd };
      }
    return best ? [best.a, best.b].map(({ x, y }) => ({ x, y })) : [];
  });
}

const browser = await chromium.launch({
  executablePath: chromiumPath,
  headless: true,
  args: ['--no-sandbox', '--disable-dev-shm-usage', '--enable-unsafe-swiftshader', '--use-angle=swiftshader'],
});
let page;
let shotTaken = false;
try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
  page = await context.newPage();
  await page.route('**/*', (route) => {
    const u = route.request().url();
    if (u.startsWith('data:') || u.startsWith('blob:')) return route.continue();
    let o = null;
    try {
      o = new URL(u).origin;
    } catch (_) {
      /* unparsable */
    }
    if (o === origin) return route.continue();
    external.push(u);
    return route.abort();
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message || e}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const loc = msg.location() && msg.location().url;
    if (allowApiErrors && /Failed to load resource/.test(msg.text()) && loc && new URL(loc, origin).pathname.startsWith('/api/')) return;
    errors.push(`console error: ${msg.text()}${loc ? ` (${loc})` : ''}`);
  });

  const steps = [
    ['open the page and draw the map', async () => {
      const res = await page.goto(url, { waitUntil: 'load', timeout: T.long });
      if (!res || !res.ok()) throw new Error(`GET ${url} answered ${res ? res.status() : 'nothing'}`);
      const mapOrJob = () => {
        const g = window.molearnGui;
        const d = document.querySelector('[data-testid="map"]');
        const hm = d && d.data && d.data.find((t) => t.type === 'heatmap');
        const banner = document.querySelector('[data-testid="error-banner"]');
        const progress = document.querySelector('[data-testid="progress"]');
        if (banner && !banner.hidden) return 'error';
        if (g && g.mapDrawn && hm && hm.z && hm.z.flat().some((v) => Number.isFinite(v)) && d.querySelector('svg.main-svg')) return 'map';
        if (progress && !progress.hidden) return 'job';
        return false;
      };
      let seen = await (await page.waitForFunction(mapOrJob, null, { timeout: T.long })).jsonValue();
      if (seen === 'job') {
        // The default map is being computed: that can take minutes for a
        // real model on a small machine. Cancel it (which tests Cancel) and
        // ask for a coarse map instead.
        const count = await page.textContent(tid('progress-count'));
        await page.click(tid('cancel-scan'), { timeout: 5000 }).catch(() => {}); // the job may end first
        await page.waitForFunction(() => document.querySelector('[data-testid="progress"]').hidden, null, { timeout: T.long }).catch(() => {
          throw new Error('the progress bar did not go away after Cancel');
        });
        const err = await bannerText(page);
        if (err) throw new Error(`the page shows an error after Cancel: ${err}`);
        const drawn = await gui(page, () => window.molearnGui.mapDrawn);
        if (!drawn) {
          await page.fill(tid('grid'), String(COARSE_GRID));
          await page.dispatchEvent(tid('grid'), 'change');
          seen = await (await page.waitForFunction(() => {
            const b = document.querySelector('[data-testid="error-banner"]');
            return (b && !b.hidden) || window.molearnGui.mapDrawn;
          }, null, { timeout: T.long })).jsonValue();
        }
        summary.push(`default map: computed as a job (progress ${count.trim()}), cancelled${drawn ? ' too late' : `; asked for a ${COARSE_GRID}x${COARSE_GRID} map instead`}`);
      }
      const err = await bannerText(page);
      if (err) throw new Error(`the page shows an error: ${err}`);
      const m = await gui(page, () => {
        const g = window.molearnGui;
        return { landscape: g.map.landscape, grid: g.mapGrid, frames: (g.info.encoded || []).length, summary: document.querySelector('[data-testid="summary"]').textContent.replace(/\s+/g, ' ') };
      });
      if (!/\d/.test(m.summary)) throw new Error(`the header has no model summary: '${m.summary}'`);
      summary.push(`map: ${m.landscape} at ${m.grid}x${m.grid}, ${m.frames} encoded frames drawn`);
    }],
    ['click two waypoints on the map', async () => {
      const pts = await pickClickPoints(page);
      if (pts.length !== 2) throw new Error('found no free points on the map to click');
      for (const [k, p] of pts.entries()) {
        const { px, py } = await mapPixel(page, p.x, p.y);
        await page.mouse.move(px, py);
        await page.waitForTimeout(150);
        await page.mouse.click(px, py);
        await page.waitForFunction((n) => window.molearnGui.waypoints.length >= n, k + 1, { timeout: T.short }).catch(() => {
          throw new Error(`a click at (${p.x.toFixed(3)}, ${p.y.toFixed(3)}) = pixel (${px.toFixed(0)}, ${py.toFixed(0)}) added no waypoint`);
        });
      }
      const wps = await gui(page, () => window.molearnGui.waypoints.map((w) => w.spec));
      if (wps.length !== 2) throw new Error(`expected 2 waypoints, have ${wps.length}`);
      summary.push(`waypoints: ${wps.map((w) => JSON.stringify(w.plane ? { plane: w.plane.map((v) => +v.toFixed(3)) } : w)).join(', ')}`);
    }],
    [`make a straight path with ${STEPS} steps`, async () => {
      await page.selectOption(tid('mode'), 'straight');
      await page.fill(tid('steps'), String(STEPS));
      await page.click(tid('make-path'));
      await page.waitForFunction(
        (n) => {
          const g = window.molearnGui;
          const b = document.querySelector('[data-testid="error-banner"]');
          return (b && !b.hidden) || (g.paths.length === 1 && g.viewerFrames === n);
        },
        STEPS,
        { timeout: T.long },
      );
      const err = await bannerText(page);
      if (err) throw new Error(`the page shows an error: ${err}`);
      const s = await gui(page, () => {
        const g = window.molearnGui;
        const p = g.paths[0];
        return { frames: g.viewerFrames, plane: p.plane_points.length, points: p.points.length, metrics: p.metrics.map((m) => m.name) };
      });
      if (s.plane !== STEPS || s.points !== STEPS) throw new Error(`the path has ${s.points} points and ${s.plane} plane points, not ${STEPS}`);
      const onMap = await page.evaluate(() => document.querySelector('[data-testid="map"]').data.some((t) => (t.uid || '').startsWith('path-')));
      if (!onMap) throw new Error('the path is not drawn on the map');
      summary.push(`path: ${s.points} steps, viewer ${s.frames} frames, metrics ${s.metrics.join(', ')}`);
    }],
    ['move the step slider', async () => {
      const target = 3;
      await page.fill(tid('step-slider'), String(target));
      await page.waitForFunction((t) => window.molearnGui.currentStep === t && window.molearnGui.viewerFrame === t, target, { timeout: T.short }).catch(async () => {
        const g = await gui(page, () => ({ step: window.molearnGui.currentStep, frame: window.molearnGui.viewerFrame }));
        throw new Error(`after moving the slider to ${target}: step ${g.step}, viewer frame ${g.frame}`);
      });
      const marker = await page.evaluate(() => {
        const d = document.querySelector('[data-testid="map"]');
        const c = d.data.find((t) => t.uid === 'current');
        const p = window.molearnGui.paths[0].plane_points[window.molearnGui.currentStep];
        return c ? Math.hypot(c.x[0] - p[0], c.y[0] - p[1]) : null;
      });
      if (marker === null) throw new Error('the map has no current-step marker');
      if (marker > 1e-9) throw new Error('the current-step marker is not at the step shown');
      summary.push(`slider: step ${target} shown in the viewer and marked on the map`);
    }],
    ['metrics plot', async () => {
      const m = await page.evaluate(() => {
        const d = document.querySelector('[data-testid="metrics"]');
        const tr = (d.data || []).filter((t) => Array.isArray(t.y) && t.y.some((v) => v !== null && Number.isFinite(v)));
        return { svg: !!d.querySelector('svg.main-svg'), traces: tr.length, metric: window.molearnGui.metric, options: document.querySelectorAll('[data-testid="metric"] option').length };
      });
      if (!m.svg) throw new Error('the metrics plot has no svg.main-svg (not drawn)');
      if (!m.traces) throw new Error(`the metrics plot (${m.metric}) has no data points`);
      summary.push(`metrics plot: ${m.metric}, ${m.options} metrics to choose from`);
    }],
    ['screenshot', async () => {
      await page.evaluate(() => document.activeElement && document.activeElement.blur());
      await page.mouse.move(5, 5); // no hover label in the picture
      await page.waitForTimeout(500); // let NGL render the frame
      await page.screenshot({ path: shotPath });
      shotTaken = true;
    }],
    ['download the path as PDB', async () => {
      const [dl] = await Promise.all([page.waitForEvent('download', { timeout: T.short }), page.click(tid('download-pdb'))]);
      const file = await dl.path();
      const text = readFileSync(file, 'utf8');
      const models = (text.match(/^MODEL/gm) || []).length;
      const atoms = (text.match(/^ATOM/gm) || []).length;
      if (models !== STEPS) throw new Error(`${dl.suggestedFilename()} has ${models} MODEL records, not ${STEPS}`);
      summary.push(`download: ${dl.suggestedFilename()}, ${models} models, ${atoms / models} atoms each`);
    }],
    ['a refused request shows the server\'s message', async () => {
      allowApiErrors = true;
      await page.fill(tid('steps'), '100000');
      const [res] = await Promise.all([
        page.waitForResponse((r) => new URL(r.url()).pathname === '/api/path', { timeout: T.long }),
        page.click(tid('make-path')),
      ]);
      const status = res.status();
      let serverMsg = '';
      try {
        serverMsg = (await res.json()).error || '';
      } catch (_) {
        /* no JSON */
      }
      if (status < 400) throw new Error(`the server accepted steps=100000 (status ${status})`);
      if (!serverMsg) throw new Error(`the server's ${status} answer has no "error" field`);
      await page.waitForFunction(() => {
        const b = document.querySelector('[data-testid="error-banner"]');
        return b && !b.hidden;
      }, null, { timeout: T.short }).catch(() => {
        throw new Error('the error banner did not appear');
      });
      const shown = await bannerText(page);
      if (!shown.includes(serverMsg)) throw new Error(`the banner says '${shown}', not the server's '${serverMsg}'`);
      await page.waitForFunction(() => !document.querySelector('[data-testid="make-path"]').disabled, null, { timeout: T.short }).catch(() => {
        throw new Error('"Make path" stayed disabled after the error');
      });
      summary.push(`error: ${status} "${serverMsg}" shown in the banner`);
      await page.click(tid('error-close'));
      await page.fill(tid('steps'), String(STEPS));
      allowApiErrors = false;
    }],
    ['a new map: progress and cancel', async () => {
      const g = await gui(page, () => ({ grid: window.molearnGui.mapGrid, landscape: window.molearnGui.map.landscape, scanned: window.molearnGui.info.scanned }));
      let grid = 13;
      while (g.scanned.some((s) => s.landscape === g.landscape && s.grid === grid)) grid++;
      await page.fill(tid('grid'), String(grid));
      await page.dispatchEvent(tid('grid'), 'change');
      const seen = await page
        .waitForFunction(() => {
          const p = document.querySelector('[data-testid="progress"]');
          return (p && !p.hidden) || !document.querySelector('[data-testid="show-map"]').disabled;
        }, null, { timeout: T.short })
        .then(() => page.evaluate(() => !document.querySelector('[data-testid="progress"]').hidden));
      if (seen) {
        await page.click(tid('cancel-scan'), { timeout: 5000 }).catch(() => {}); // the job may end first
        await page.waitForFunction(() => document.querySelector('[data-testid="progress"]').hidden, null, { timeout: T.long }).catch(() => {
          throw new Error('the progress bar did not go away after Cancel');
        });
      }
      const err = await bannerText(page);
      if (err) throw new Error(`the page shows an error: ${err}`);
      await page.waitForFunction(() => !document.querySelector('[data-testid="show-map"]').disabled, null, { timeout: T.short }).catch(() => {
        throw new Error('"Show map" stayed disabled');
      });
      const after = await gui(page, () => ({ grid: window.molearnGui.mapGrid, drawn: window.molearnGui.mapDrawn }));
      if (!after.drawn) throw new Error('the map is gone');
      summary.push(seen ? `scan at grid ${grid}: progress bar shown, cancelled; map still at grid ${after.grid}` : `scan at grid ${grid}: answered at once (no job)`);
    }],
  ];

  for (const [name, fn] of steps) {
    const t0 = Date.now();
    try {
      await fn();
      timings.push(`${name} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    } catch (e) {
      problems.push(`${name}: ${e.message.split('\n')[0]}`);
      break;
    }
  }
  if (!shotTaken) await page.screenshot({ path: shotPath }).catch(() => {});
} catch (e) {
  problems.push(`the test itself failed: ${e.message}`);
} finally {
  await browser.close();
}

for (const line of summary) console.log(line);
console.log(`time: ${timings.join(', ')}`);
for (const u of external) problems.push(`the page requested a resource outside ${origin}: ${u}`);
for (const e of errors) problems.push(e);
if (problems.length) {
  console.log('PROBLEMS:');
  for (const p of problems) console.log(`  ${p}`);
  process.exitCode = 1;
} else {
  console.log(`the page works; screenshot ${shotPath}`);
}
