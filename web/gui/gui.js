// molearn gui: the page of `molearn gui`. Plain JavaScript, no build step.
// It talks only to the JSON API of docs/gui-api.md and uses plotly.js
// (global Plotly) for the latent map and the metrics plot and NGL (global NGL)
// for the 3-D view. Everything the page knows is in `state`, exposed as
// window.molearnGui for tests.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);

  // Path colours: readable both over the viridis map and on the white metrics plot.
  const PALETTE = ['#e6194b', '#ff8c00', '#f032e6', '#00b8d9', '#111111', '#9b5de5', '#a65628', '#ff6fae'];
  const PLAY_MS = 350; // time per step when playing
  const POLL_MS = 300; // job polling period

  const state = {
    info: null,
    map: null, // the map shown: a /api/scan "done" answer
    mapGrid: null, // the grid it was asked for
    mapDrawn: false,
    zrange: null, // [min, max] set by the user, null = automatic
    job: null, // {id, done, total, landscape, grid} while a scan runs
    waypoints: [], // {spec, label, xy}
    paths: [], // see makePath()
    selected: null, // id of the selected path
    currentStep: 0,
    viewerFrames: 0, // frames of the trajectory loaded in NGL
    viewerFrame: -1, // frame NGL shows
    viewerReady: false,
    viewerError: null,
    playing: false,
    metric: null,
    busy: new Set(),
    lastError: '',
    errors: [],
    nextPathId: 1,
  };
  window.molearnGui = state;

  // ---------------------------------------------------------------- helpers
  const unitLabel = (u) => (u === 'A' || u === 'Angstrom' ? 'Å' : u || '');
  const withUnit = (name, unit) => (unitLabel(unit) ? `${name} (${unitLabel(unit)})` : name);
  const fmt = (v, digits = 4) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : Number(v.toPrecision(digits)).toString());
  const clamp = (v, lo, hi) => Math.max(lo, Math.min(hi, v));
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const basename = (p) => (p ? String(p).split(/[\\/]/).pop() : '');
  const limits = () => (state.info && state.info.limits) || {};
  const selectedPath = () => state.paths.find((p) => p.id === state.selected) || null;
  const slug = (s) => String(s).toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'path';

  function showError(context, err) {
    const msg = err instanceof Error ? err.message : String(err);
    const text = context ? `${context}: ${msg}` : msg;
    state.lastError = text;
    state.errors.push(text);
    $('error-text').textContent = text;
    $('error-banner').hidden = false;
  }
  function clearError() {
    $('error-banner').hidden = true;
    $('error-text').textContent = '';
  }
  function showNote(text, kind = 'info') {
    state.noteKind = kind;
    $('note-text').textContent = text;
    $('note-banner').hidden = false;
  }
  function clearNote() {
    $('note-banner').hidden = true;
  }

  // One request to the API. Resolves {status, body}; rejects with an Error
  // whose message is the server's `error` (or what went wrong on the way).
  async function api(method, url, body, as = 'json') {
    let res;
    try {
      res = await fetch(url, {
        method,
        headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new Error(`cannot reach the molearn server (${method} ${url}): ${e.message}. Is \`molearn gui\` still running?`);
    }
    if (!res.ok) {
      let msg = `${res.status} ${res.statusText}`.trim();
      try {
        const text = await res.text();
        let parsed = null;
        try {
          parsed = JSON.parse(text);
        } catch (_) {
          /* not JSON */
        }
        if (parsed && typeof parsed.error === 'string') msg = parsed.error;
        else if (text) msg += `: ${text.slice(0, 300)}`;
      } catch (_) {
        /* body unreadable */
      }
      const e = new Error(msg);
      e.status = res.status;
      throw e;
    }
    if (as === 'blob') return { status: res.status, body: await res.blob() };
    if (as === 'text') return { status: res.status, body: await res.text() };
    try {
      return { status: res.status, body: await res.json() };
    } catch (e) {
      throw new Error(`the server's answer to ${method} ${url} is not valid JSON`);
    }
  }

  // Runs fn with `key` marked busy (its buttons disabled); errors go to the banner.
  async function run(key, context, fn) {
    if (state.busy.has(key)) return undefined;
    clearError();
    state.busy.add(key);
    refreshControls();
    try {
      return await fn();
    } catch (e) {
      showError(context, e);
      return undefined;
    } finally {
      state.busy.delete(key);
      refreshControls();
    }
  }

  function saveBlob(blob, name) {
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 30000);
  }

  // --------------------------------------------------------------- controls
  function setBusyLook(button, busy) {
    button.classList.toggle('busy', busy);
  }

  function refreshControls() {
    const info = state.info;
    const lim = limits();
    const scanning = state.busy.has('scan');
    const hasLandscapes = !!(info && info.landscapes && info.landscapes.length);
    const path = selectedPath();
    $('landscape').disabled = !hasLandscapes || scanning;
    $('grid').disabled = !hasLandscapes || scanning;
    $('show-map').disabled = !hasLandscapes || scanning;
    setBusyLook($('show-map'), scanning);
    $('download-png').disabled = !state.mapDrawn;
    for (const id of ['zmin', 'zmax', 'zreset']) $(id).disabled = !state.map;

    const full = state.waypoints.length >= (lim.max_waypoints || Infinity);
    const hasData = !!(info && info.dataset && info.dataset.frames > 0);
    $('add-frame').disabled = !info || !hasData || full;
    $('frame').disabled = !info || !hasData;
    $('pdb-file').disabled = !info || full || state.busy.has('pdb');
    $('pdb-file').parentElement.classList.toggle('disabled', $('pdb-file').disabled);
    $('clear-waypoints').disabled = state.waypoints.length === 0 || state.busy.has('path');
    $('make-path').disabled = !info || state.waypoints.length < 2 || state.busy.has('path');
    setBusyLook($('make-path'), state.busy.has('path'));
    const modeOpt = $('mode').querySelector('option[value="least-cost"]');
    modeOpt.textContent = state.map ? `least-cost over ${state.map.landscape} (${state.mapGrid}×${state.mapGrid})` : 'least-cost (show a map first)';

    const nSteps = path ? path.plane_points.length : 0;
    $('play').disabled = !path || nSteps < 2;
    $('step-slider').disabled = !path || nSteps < 2;
    $('representation').disabled = !state.viewerReady;
    $('metric').disabled = !path;
    $('download-pdb').disabled = !path;
    $('download-csv').disabled = !path;
    $('download-dcd').disabled = !path || state.busy.has('dcd');
    setBusyLook($('download-dcd'), state.busy.has('dcd'));
    $('save-session').disabled = state.paths.length === 0;
    $('load-session').disabled = !info || state.busy.has('load');
    $('load-session').parentElement.classList.toggle('disabled', $('load-session').disabled);
  }

  // ----------------------------------------------------------------- header
  function renderSummary() {
    const info = state.info;
    const enc = info.encoded || [];
    const nTrain = enc.filter((e) => e.split === 'train').length;
    const nValid = enc.filter((e) => e.split === 'valid' || e.split === 'validation').length;
    const items = [
      ['model', `${info.model.kind}${info.model.epoch !== undefined ? ` · epoch ${info.model.epoch}` : ''}`],
      ['latent', `${info.model.latent_dim}-D`],
      ['atoms', String(info.atoms)],
      ['residues', String(info.residues)],
      ['dataset', info.dataset ? `${info.dataset.frames} frames${enc.length ? ` (${nTrain} train, ${nValid} val)` : ''}` : 'none'],
      ['checkpoint', basename(info.checkpoint)],
    ];
    const dl = $('summary');
    dl.textContent = '';
    for (const [k, v] of items) {
      const div = document.createElement('div');
      const dt = document.createElement('dt');
      const dd = document.createElement('dd');
      dt.textContent = k;
      dd.textContent = v;
      if (k === 'checkpoint') dd.title = info.checkpoint;
      if (k === 'dataset' && info.dataset) dd.title = info.dataset.path;
      div.append(dt, dd);
      dl.append(div);
    }
    const parts = [`molearn ${info.version || ''}`.trim(), `checkpoint ${info.checkpoint}`];
    if (info.dataset) parts.push(`dataset ${info.dataset.path}`);
    if (info.plane && info.model.latent_dim > 2)
      parts.push(`map plane: latent dims ${info.plane.dims.join(', ')}; the others at the mean of the encoded frames`);
    $('footer').textContent = parts.join(' · ');
  }

  // -------------------------------------------------------------------- map
  const mapDiv = () => $('map');

  function planeDims() {
    const d = state.info && state.info.plane && state.info.plane.dims;
    return Array.isArray(d) && d.length === 2 ? d : [0, 1];
  }

  function mapBounds() {
    const b = state.info && state.info.bounds;
    if (Array.isArray(b) && b.length === 4 && b.every(Number.isFinite)) return b;
    if (state.map) return [state.map.x[0], state.map.x[state.map.x.length - 1], state.map.y[0], state.map.y[state.map.y.length - 1]];
    const enc = (state.info && state.info.encoded) || [];
    if (enc.length) {
      const xs = enc.map((e) => e.x);
      const ys = enc.map((e) => e.y);
      return [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    }
    return [-1, 1, -1, 1];
  }

  function mapTraces() {
    const traces = [];
    const m = state.map;
    const [dx, dy] = planeDims();
    if (m) {
      const unit = unitLabel(m.unit);
      const hm = {
        type: 'heatmap',
        uid: 'heatmap',
        name: m.landscape,
        x: m.x,
        y: m.y,
        z: m.z,
        colorscale: 'Viridis',
        reversescale: !!m.higher_is_better,
        hoverongaps: false,
        colorbar: {
          title: { text: withUnit(m.landscape, m.unit), side: 'right' },
          thickness: 14,
          len: 0.92,
          outlinewidth: 0,
          tickfont: { size: 11 },
        },
        hovertemplate: `z${dx} %{x:.3f}, z${dy} %{y:.3f}<br>${m.landscape} %{z:.4g}${unit ? ' ' + unit : ''}<extra></extra>`,
        showlegend: false,
      };
      if (state.zrange) Object.assign(hm, { zauto: false, zmin: state.zrange[0], zmax: state.zrange[1] });
      else hm.zauto = true;
      traces.push(hm);
    }
    const enc = (state.info && state.info.encoded) || [];
    const isTrain = (e) => e.split === 'train';
    const isValid = (e) => e.split === 'valid' || e.split === 'validation';
    const groups = [
      ['train', 'training frames', enc.filter(isTrain), { symbol: 'circle', color: 'rgba(255,255,255,0.92)', size: 7 }],
      ['valid', 'validation frames', enc.filter(isValid), { symbol: 'diamond', color: '#ff9f1c', size: 9 }],
      ['other', 'other frames', enc.filter((e) => !isTrain(e) && !isValid(e)), { symbol: 'square', color: '#c0c6d0', size: 6 }],
    ];
    for (const [uid, name, pts, marker] of groups) {
      if (!pts.length) continue;
      traces.push({
        type: 'scatter',
        mode: 'markers',
        uid,
        name,
        x: pts.map((e) => e.x),
        y: pts.map((e) => e.y),
        customdata: pts.map((e) => [e.frame, e.split, e.source || '?', e.source_frame ?? '?']),
        marker: { ...marker, line: { color: '#1d2433', width: 1 } },
        hovertemplate: 'frame %{customdata[0]} (%{customdata[1]})<br>%{customdata[2]}, frame %{customdata[3]}<br>' +
          `z${dx} %{x:.3f}, z${dy} %{y:.3f}<extra></extra>`,
      });
    }
    for (const p of state.paths) {
      const sel = p.id === state.selected;
      const xs = p.plane_points.map((q) => q[0]);
      const ys = p.plane_points.map((q) => q[1]);
      traces.push({
        type: 'scatter', mode: 'lines', uid: `under-${p.id}`, x: xs, y: ys, hoverinfo: 'skip', showlegend: false,
        line: { color: 'rgba(0,0,0,0.45)', width: sel ? 7 : 4.5 },
      });
      traces.push({
        type: 'scatter',
        mode: 'lines+markers',
        uid: `path-${p.id}`,
        name: p.name,
        showlegend: false,
        x: xs,
        y: ys,
        customdata: p.plane_points.map((_, i) => i),
        line: { color: p.color, width: sel ? 4 : 2.5 },
        marker: { color: p.color, size: sel ? 7 : 5, line: { color: 'white', width: 1 } },
        opacity: sel ? 1 : 0.75,
        hovertemplate: `${p.name}: step %{customdata} of ${p.plane_points.length - 1}<br>z${dx} %{x:.3f}, z${dy} %{y:.3f}<extra>click: show this step</extra>`,
      });
    }
    const wps = state.waypoints.filter((w) => w.xy);
    if (wps.length) {
      traces.push({
        type: 'scatter',
        mode: wps.length > 1 ? 'lines+markers+text' : 'markers+text',
        uid: 'waypoints',
        name: 'waypoints',
        x: wps.map((w) => w.xy[0]),
        y: wps.map((w) => w.xy[1]),
        text: wps.map((w) => String(state.waypoints.indexOf(w) + 1)),
        textposition: 'middle center',
        textfont: { color: 'white', size: 10 },
        line: { color: 'rgba(255,255,255,0.85)', width: 1.5, dash: 'dot' },
        marker: { size: 17, color: '#1d2433', line: { color: 'white', width: 1.5 } },
        hovertemplate: 'waypoint %{text}<br>%{x:.3f}, %{y:.3f}<extra></extra>',
      });
    }
    const p = selectedPath();
    if (p) {
      const q = p.plane_points[clamp(state.currentStep, 0, p.plane_points.length - 1)];
      traces.push({
        type: 'scatter',
        mode: 'markers',
        uid: 'current',
        name: 'current step',
        x: [q[0]],
        y: [q[1]],
        marker: { symbol: 'circle', size: 17, color: p.color, line: { color: 'white', width: 3.5 } },
        hovertemplate: `${p.name}, step ${state.currentStep}<extra></extra>`,
      });
    }
    return traces;
  }

  function mapLayout() {
    const [x0, x1, y0, y1] = mapBounds();
    const [dx, dy] = planeDims();
    const other = state.info && state.info.model.latent_dim > 2 ? ' (others at the mean)' : '';
    return {
      margin: { l: 58, r: 8, t: 30, b: 44 },
      xaxis: { title: { text: `latent z${dx}${other}`, standoff: 6 }, range: [x0, x1], autorange: false, showgrid: false, zeroline: false, ticks: 'outside', mirror: true, showline: true, linecolor: '#98a2b3' },
      yaxis: { title: { text: `latent z${dy}`, standoff: 4 }, range: [y0, y1], autorange: false, showgrid: false, zeroline: false, ticks: 'outside', mirror: true, showline: true, linecolor: '#98a2b3' },
      legend: { orientation: 'h', x: 0, y: 1.01, xanchor: 'left', yanchor: 'bottom', font: { size: 11.5 }, itemclick: 'toggle', itemdoubleclick: 'toggleothers' },
      hovermode: 'closest',
      hoverlabel: { bgcolor: 'white', font: { size: 12 } },
      plot_bgcolor: '#eef1f5',
      paper_bgcolor: 'white',
      uirevision: 'map',
      font: { family: 'system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif', size: 12, color: '#1d2433' },
    };
  }

  async function drawMap() {
    if (typeof Plotly === 'undefined') return;
    await Plotly.react(mapDiv(), mapTraces(), mapLayout(), {
      responsive: true,
      displaylogo: false,
      modeBarButtonsToRemove: ['select2d', 'lasso2d', 'autoScale2d', 'toImage'],
    });
    state.mapDrawn = !!state.map;
    $('map-placeholder').hidden = true;
    refreshControls();
  }

  // Keeps the map's current-step marker where the viewer is, without redrawing the rest.
  function moveMapMarker() {
    const div = mapDiv();
    const p = selectedPath();
    if (!p || !div.data) return;
    const idx = div.data.findIndex((t) => t.uid === 'current');
    if (idx < 0) return void drawMap();
    const q = p.plane_points[state.currentStep];
    Plotly.restyle(div, { x: [[q[0]]], y: [[q[1]]], hovertemplate: `${p.name}, step ${state.currentStep}<extra></extra>` }, [idx]);
  }

  function finiteRange(z) {
    let lo = Infinity;
    let hi = -Infinity;
    for (const row of z) for (const v of row) if (v !== null && Number.isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
    return Number.isFinite(lo) ? [lo, hi] : null;
  }

  function setMap(map, grid) {
    if (state.noteKind === 'cancelled') clearNote();
    state.map = map;
    state.mapGrid = grid;
    state.zrange = null;
    const r = finiteRange(map.z || []);
    $('zmin').value = r ? fmt(r[0], 5) : '';
    $('zmax').value = r ? fmt(r[1], 5) : '';
    const l = (state.info.landscapes || []).find((x) => x.name === map.landscape);
    const better = map.higher_is_better ? 'higher is better (darker)' : 'lower is better (darker)';
    const src = map.source ? ` · ${map.source}` : '';
    $('landscape-desc').textContent = `${l && l.description ? l.description + ' — ' : ''}${better}${src}`;
    if (!state.info.scanned) state.info.scanned = [];
    if (!state.info.scanned.some((s) => s.landscape === map.landscape && s.grid === grid))
      state.info.scanned.push({ landscape: map.landscape, grid });
    return drawMap();
  }

  async function followJob(first, landscape, grid) {
    if (first.job === undefined || first.job === null) throw new Error('the server started a job but sent no job id');
    const job = { id: String(first.job), state: first.state, done: first.done || 0, total: first.total || 0, landscape, grid };
    state.job = job;
    const show = () => {
      $('progress-row').hidden = false;
      $('progress-label').textContent = job.state === 'queued'
        ? `The ${landscape} map at ${grid}×${grid} waits for another computation…`
        : `Computing the ${landscape} map at ${grid}×${grid}…`;
      $('progress-bar').max = Math.max(1, job.total);
      $('progress-bar').value = job.done;
      $('progress-count').textContent = `${job.done} / ${job.total}`;
    };
    show();
    try {
      for (;;) {
        await sleep(POLL_MS);
        const r = (await api('GET', `/api/jobs/${encodeURIComponent(job.id)}`)).body;
        job.state = r.state;
        job.done = r.done ?? job.done;
        job.total = r.total ?? job.total;
        show();
        if (r.state === 'done') {
          if (!r.result) throw new Error(`job ${job.id} is done but sent no map`);
          return r.result;
        }
        if (r.state === 'failed') throw new Error(r.error || `job ${job.id} failed`);
        if (r.state === 'cancelled') {
          showNote(`The ${landscape} map at ${grid}×${grid} was cancelled.`, 'cancelled');
          return null;
        }
        if (r.state !== 'running' && r.state !== 'queued') throw new Error(`job ${job.id} is in an unknown state '${r.state}'`);
      }
    } finally {
      state.job = null;
      $('progress-row').hidden = true;
      $('cancel-scan').disabled = false;
      setBusyLook($('cancel-scan'), false);
    }
  }

  function loadMap() {
    const landscape = $('landscape').value;
    const grid = Number($('grid').value);
    return run('scan', `Map of ${landscape || '?'} at grid ${$('grid').value}`, async () => {
      if (!landscape) throw new Error('choose a landscape');
      if (!Number.isInteger(grid)) throw new Error('grid: give a whole number of points per side');
      if (!state.mapDrawn) $('map-placeholder').textContent = `Loading the ${landscape} map…`;
      const r = await api('POST', '/api/scan', { landscape, grid });
      let map = r.body;
      if (r.status === 202 || map.state === 'running' || map.state === 'queued') map = await followJob(map, landscape, grid);
      if (!map) return;
      if (map.state && map.state !== 'done') throw new Error(`unexpected map state '${map.state}'`);
      await setMap(map, grid);
    });
  }

  async function cancelScan() {
    const job = state.job;
    if (!job) return;
    $('cancel-scan').disabled = true;
    setBusyLook($('cancel-scan'), true);
    try {
      await api('POST', `/api/jobs/${encodeURIComponent(job.id)}/cancel`, {});
    } catch (e) {
      showError('Cancel', e);
      $('cancel-scan').disabled = false;
      setBusyLook($('cancel-scan'), false);
    }
  }

  function applyColourRange() {
    if (!state.map) return;
    const lo = parseFloat($('zmin').value);
    const hi = parseFloat($('zmax').value);
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) return showError('Colour range', 'give two numbers, min and max');
    if (!(lo < hi)) return showError('Colour range', `min (${lo}) must be below max (${hi})`);
    state.zrange = [lo, hi];
    const idx = (mapDiv().data || []).findIndex((t) => t.uid === 'heatmap');
    if (idx >= 0) Plotly.restyle(mapDiv(), { zauto: false, zmin: lo, zmax: hi }, [idx]);
  }

  function resetColourRange() {
    if (!state.map) return;
    state.zrange = null;
    const r = finiteRange(state.map.z || []);
    $('zmin').value = r ? fmt(r[0], 5) : '';
    $('zmax').value = r ? fmt(r[1], 5) : '';
    const idx = (mapDiv().data || []).findIndex((t) => t.uid === 'heatmap');
    if (idx >= 0) Plotly.restyle(mapDiv(), { zauto: true, zmin: null, zmax: null }, [idx]);
  }

  // Where on the plane a mouse event is, from plotly's axes (null if outside the plot area).
  function eventToPlane(ev) {
    try {
      const fl = mapDiv()._fullLayout;
      const bb = mapDiv().getBoundingClientRect();
      const px = ev.clientX - bb.left - fl.xaxis._offset;
      const py = ev.clientY - bb.top - fl.yaxis._offset;
      if (px < 0 || py < 0 || px > fl.xaxis._length || py > fl.yaxis._length) return null;
      const x = fl.xaxis.p2l(px);
      const y = fl.yaxis.p2l(py);
      return Number.isFinite(x) && Number.isFinite(y) ? [x, y] : null;
    } catch (_) {
      return null;
    }
  }

  function onMapClick(ev) {
    const pt = ev && ev.points && ev.points[0];
    if (!pt) return;
    const uid = (pt.data && pt.data.uid) || '';
    if (uid.startsWith('path-')) {
      const id = Number(uid.slice(5));
      if (id !== state.selected) selectPath(id, pt.pointNumber);
      else setStep(pt.pointNumber);
      return;
    }
    if (uid === 'current') return;
    if ((uid === 'train' || uid === 'valid' || uid === 'other') && Array.isArray(pt.customdata)) {
      addWaypoint({ frame: pt.customdata[0] });
      return;
    }
    const xy = (ev.event && eventToPlane(ev.event)) || [pt.x, pt.y];
    addWaypoint({ plane: [Number(xy[0]), Number(xy[1])] });
  }

  // -------------------------------------------------------------- waypoints
  function addWaypoint(spec, label) {
    const lim = limits();
    if (state.waypoints.length >= (lim.max_waypoints || Infinity)) {
      showError('Waypoints', `at most ${lim.max_waypoints} waypoints`);
      return;
    }
    let xy = null;
    if (spec.plane) {
      xy = spec.plane;
      label = label || `(${fmt(xy[0], 4)}, ${fmt(xy[1], 4)})`;
    } else if (spec.frame !== undefined) {
      const e = (state.info.encoded || []).find((f) => f.frame === spec.frame);
      if (e) xy = [e.x, e.y];
      label = label || `frame ${spec.frame}${e ? ` (${e.split})` : ''}`;
    } else {
      label = label || 'structure';
    }
    state.waypoints.push({ spec, label, xy });
    clearError();
    renderWaypoints();
    drawMap();
  }

  function renderWaypoints() {
    const ol = $('waypoints');
    ol.textContent = '';
    state.waypoints.forEach((w, i) => {
      const li = document.createElement('li');
      li.dataset.testid = 'waypoint';
      const num = document.createElement('span');
      num.className = 'num';
      num.textContent = String(i + 1);
      const kind = document.createElement('span');
      kind.className = 'kind';
      kind.textContent = w.spec.plane ? 'map' : w.spec.frame !== undefined ? 'data' : 'PDB';
      const text = document.createElement('span');
      text.textContent = w.label;
      const rm = document.createElement('button');
      rm.type = 'button';
      rm.title = 'Remove this waypoint';
      rm.setAttribute('aria-label', `remove waypoint ${i + 1}`);
      rm.textContent = '×';
      rm.addEventListener('click', () => {
        state.waypoints.splice(i, 1);
        renderWaypoints();
        drawMap();
      });
      li.append(num, kind, text, rm);
      ol.append(li);
    });
    refreshControls();
  }

  function addFrameWaypoint() {
    const n = state.info.dataset ? state.info.dataset.frames : 0;
    const v = Number($('frame').value);
    if (!Number.isInteger(v) || v < 0 || v >= n) {
      showError('Add frame', `frame: give a whole number from 0 to ${n - 1}`);
      return;
    }
    addWaypoint({ frame: v });
  }

  async function addPdbWaypoint() {
    const input = $('pdb-file');
    const file = input.files && input.files[0];
    if (!file) return;
    await run('pdb', `PDB file ${file.name}`, async () => {
      const max = limits().max_body_bytes;
      if (max && file.size > max / 2) throw new Error(`the file is ${(file.size / 1e6).toFixed(1)} MB; the server takes bodies up to ${(max / 1e6).toFixed(1)} MB`);
      const text = await file.text();
      if (!/^(ATOM|HETATM)/m.test(text)) throw new Error('no ATOM records: is this a PDB file?');
      addWaypoint({ pdb: text }, file.name);
    });
    input.value = '';
  }

  // ------------------------------------------------------------------ paths
  async function makePath() {
    await run('path', 'Make path', async () => {
      const steps = Number(String($('steps').value).trim());
      if (!Number.isInteger(steps)) throw new Error('steps: give a whole number');
      const mode = $('mode').value;
      const body = { waypoints: state.waypoints.map((w) => w.spec), steps, landscape: 'straight' };
      if (mode === 'least-cost') {
        if (!state.map) throw new Error('least-cost paths walk over the map shown: show a map first');
        body.landscape = state.map.landscape;
        body.grid = state.mapGrid;
      } else if (state.mapGrid) {
        body.grid = state.mapGrid;
      }
      const r = (await api('POST', '/api/path', body)).body;
      if (!Array.isArray(r.points) || !Array.isArray(r.plane_points) || typeof r.pdb !== 'string')
        throw new Error('the server answered without points, plane_points or pdb');
      const id = state.nextPathId++;
      const used = new Set(state.paths.map((q) => q.color));
      const path = {
        id,
        name: `Path ${id}`,
        color: PALETTE.find((c) => !used.has(c)) || PALETTE[(id - 1) % PALETTE.length],
        landscape: r.landscape || body.landscape,
        mode: body.landscape === 'straight' ? 'straight' : 'least-cost',
        settings: { mode: body.landscape === 'straight' ? 'straight' : 'least-cost', landscape: body.landscape, grid: body.grid ?? null, steps },
        waypoints: state.waypoints.map((w) => ({ ...w.spec })),
        waypointLabels: state.waypoints.map((w) => w.label),
        steps: r.steps || r.points.length,
        points: r.points,
        plane_points: r.plane_points,
        metrics: Array.isArray(r.metrics) ? r.metrics : [],
        pdb: r.pdb,
      };
      state.paths.push(path);
      clearError();
      selectPath(id, 0);
    });
  }

  function describePath(p) {
    const how = p.mode === 'straight' ? 'straight' : `least-cost over ${p.landscape}${p.settings && p.settings.grid ? ` (${p.settings.grid}²)` : ''}`;
    const wp = (p.waypointLabels || []).length ? p.waypointLabels.join(' → ') : `${p.waypoints.length} waypoints`;
    return `${how} · ${p.plane_points.length} steps · ${wp}`;
  }

  function renderPathList() {
    const ul = $('path-list');
    ul.textContent = '';
    for (const p of state.paths) {
      const li = document.createElement('li');
      li.dataset.testid = 'path-item';
      li.dataset.pathId = String(p.id);
      li.className = p.id === state.selected ? 'selected' : '';
      li.title = 'Select this path';
      const sw = document.createElement('span');
      sw.className = 'swatch';
      sw.style.background = p.color;
      const name = document.createElement('span');
      name.className = 'name';
      name.textContent = p.name;
      const desc = document.createElement('span');
      desc.className = 'desc';
      desc.textContent = describePath(p);
      desc.title = describePath(p);
      const rm = document.createElement('button');
      rm.type = 'button';
      rm.textContent = '×';
      rm.title = 'Remove this path';
      rm.setAttribute('aria-label', `remove ${p.name}`);
      rm.addEventListener('click', (e) => {
        e.stopPropagation();
        removePath(p.id);
      });
      li.addEventListener('click', () => {
        if (p.id !== state.selected) selectPath(p.id, 0);
      });
      li.append(sw, name, desc, rm);
      ul.append(li);
    }
  }

  function removePath(id) {
    const i = state.paths.findIndex((p) => p.id === id);
    if (i < 0) return;
    state.paths.splice(i, 1);
    if (state.selected === id) {
      const next = state.paths[Math.min(i, state.paths.length - 1)];
      if (next) selectPath(next.id, 0);
      else {
        state.selected = null;
        pause();
        clearViewer();
        renderAll();
      }
    } else renderAll();
  }

  function renderAll() {
    renderPathList();
    renderMetricOptions();
    drawMetrics();
    drawMap();
    updatePlayer();
    refreshControls();
  }

  function selectPath(id, step = 0) {
    pause();
    state.selected = id;
    const p = selectedPath();
    state.currentStep = p ? clamp(step, 0, p.plane_points.length - 1) : 0;
    renderAll();
    if (p) loadViewer(p);
  }

  function setStep(i) {
    const p = selectedPath();
    if (!p) return;
    i = clamp(Math.round(i), 0, p.plane_points.length - 1);
    state.currentStep = i;
    updatePlayer();
    if (state.traj && state.viewerFrames > i) state.traj.setFrame(i);
    moveMapMarker();
    moveMetricsMarker();
  }

  function updatePlayer() {
    const p = selectedPath();
    const n = p ? p.plane_points.length : 0;
    const slider = $('step-slider');
    slider.max = String(Math.max(0, n - 1));
    slider.value = String(state.currentStep);
    $('step-label').textContent = p ? `step ${state.currentStep} / ${n - 1}` : 'step – / –';
    $('viewer-title').textContent = p ? `· ${p.name}, step ${state.currentStep}` : '';
    $('play').textContent = state.playing ? '❚❚' : '▶';
    $('play').title = state.playing ? 'Pause' : 'Play';
  }

  let playTimer = null;
  function play() {
    const p = selectedPath();
    if (!p || p.plane_points.length < 2) return;
    state.playing = true;
    if (state.currentStep >= p.plane_points.length - 1) setStep(0);
    playTimer = setInterval(() => {
      const q = selectedPath();
      if (!q) return pause();
      setStep((state.currentStep + 1) % q.plane_points.length);
    }, PLAY_MS);
    updatePlayer();
  }
  function pause() {
    state.playing = false;
    if (playTimer) clearInterval(playTimer);
    playTimer = null;
    updatePlayer();
  }

  // ---------------------------------------------------------------- metrics
  function metricNames() {
    const seen = new Map();
    const p = selectedPath();
    const ordered = p ? [p, ...state.paths.filter((q) => q !== p)] : state.paths;
    for (const q of ordered) for (const m of q.metrics) if (!seen.has(m.name)) seen.set(m.name, m.unit);
    return seen;
  }

  function renderMetricOptions() {
    const sel = $('metric');
    const names = metricNames();
    const keep = state.metric;
    sel.textContent = '';
    for (const [name, unit] of names) {
      const o = document.createElement('option');
      o.value = name;
      o.textContent = withUnit(name, unit);
      sel.append(o);
    }
    if (keep && names.has(keep)) state.metric = keep;
    else if (state.map && names.has(state.map.landscape)) state.metric = state.map.landscape;
    else state.metric = names.size ? names.keys().next().value : null;
    if (state.metric) sel.value = state.metric;
  }

  function metricsShapes() {
    const p = selectedPath();
    if (!p) return [];
    return [{ type: 'line', xref: 'x', yref: 'paper', x0: state.currentStep, x1: state.currentStep, y0: 0, y1: 1, line: { color: '#98a2b3', width: 1.5, dash: 'dot' } }];
  }

  async function drawMetrics() {
    if (typeof Plotly === 'undefined') return;
    const div = $('metrics');
    const p = selectedPath();
    const name = state.metric;
    const ph = $('metrics-placeholder');
    if (!p || !name) {
      Plotly.purge(div);
      div._molearnWired = false;
      ph.textContent = p ? 'The server sent no metrics for this path.' : 'No path yet.';
      ph.hidden = false;
      return;
    }
    let unit = '';
    const traces = [];
    const ordered = [...state.paths.filter((q) => q !== p), p]; // the selected one on top
    for (const q of ordered) {
      const m = q.metrics.find((x) => x.name === name);
      if (!m) continue;
      if (q === p) unit = m.unit;
      const sel = q === p;
      traces.push({
        type: 'scatter',
        mode: 'lines+markers',
        uid: `m-${q.id}`,
        name: q.name,
        x: m.values.map((_, i) => i),
        y: m.values.map((v) => (v === null || !Number.isFinite(v) ? null : v)),
        connectgaps: false,
        line: { color: q.color, width: sel ? 2.5 : 1.5 },
        marker: { color: q.color, size: sel ? 6 : 4 },
        opacity: sel ? 1 : 0.45,
        hovertemplate: `${q.name}, step %{x}: %{y:.4g}${unitLabel(m.unit) ? ' ' + unitLabel(m.unit) : ''}<extra></extra>`,
      });
    }
    const pm = p.metrics.find((x) => x.name === name);
    const allNull = !pm || pm.values.every((v) => v === null || !Number.isFinite(v));
    ph.textContent = allNull ? `${name} is not defined along ${p.name}.` : '';
    ph.hidden = !allNull;
    await Plotly.react(div, traces, {
      margin: { l: 64, r: 10, t: state.paths.length > 1 ? 24 : 8, b: 38 },
      xaxis: { title: { text: 'step', standoff: 4 }, dtick: p.plane_points.length > 20 ? undefined : 1, zeroline: false, range: [-0.3, Math.max(1, p.plane_points.length - 1) + 0.3] },
      yaxis: { title: { text: withUnit(name, unit), standoff: 6 }, zeroline: false, exponentformat: 'SI' },
      showlegend: state.paths.length > 1,
      legend: { orientation: 'h', x: 0, xanchor: 'left', y: 1.02, yanchor: 'bottom', font: { size: 11 } },
      hovermode: 'closest',
      shapes: metricsShapes(),
      paper_bgcolor: 'white',
      plot_bgcolor: 'white',
      uirevision: name,
      font: { family: 'system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif', size: 12, color: '#1d2433' },
    }, { responsive: true, displaylogo: false, modeBarButtonsToRemove: ['select2d', 'lasso2d', 'toImage'] });
    if (!div._molearnWired) {
      div.on('plotly_click', onMetricsClick);
      div._molearnWired = true;
    }
  }

  function moveMetricsMarker() {
    const div = $('metrics');
    if (!div._fullLayout || !selectedPath()) return;
    Plotly.relayout(div, { shapes: metricsShapes() });
  }

  function onMetricsClick(ev) {
    const pt = ev && ev.points && ev.points[0];
    if (!pt) return;
    const uid = (pt.data && pt.data.uid) || '';
    const id = Number(uid.slice(2));
    const step = Number(pt.x);
    if (!Number.isFinite(step)) return;
    if (uid.startsWith('m-') && id !== state.selected) selectPath(id, step);
    else setStep(step);
  }

  // ----------------------------------------------------------------- viewer
  let stage = null;
  let viewerToken = 0;
  state.traj = null;

  function initViewer() {
    const ph = $('viewer-placeholder');
    if (typeof NGL === 'undefined') {
      state.viewerError = 'NGL did not load (/assets/ngl.js)';
      ph.textContent = `3-D view unavailable: ${state.viewerError}.`;
      ph.classList.add('bad');
      return;
    }
    try {
      stage = new NGL.Stage('viewer', { backgroundColor: 'white', tooltip: true, fog: false });
      if (!stage.viewer || !stage.viewer.renderer) throw new Error('WebGL is not available in this browser');
    } catch (e) {
      stage = null;
      state.viewerError = e.message;
      ph.textContent = `3-D view unavailable: ${e.message}. The map, paths and downloads still work.`;
      ph.classList.add('bad');
      return;
    }
    window.addEventListener('resize', () => stage && stage.handleResize());
  }

  function repParams(type) {
    if (type === 'licorice') return { colorScheme: 'element', multipleBond: false };
    if (type === 'backbone') return { colorScheme: 'residueindex', colorScale: 'RdYlBu' };
    return { colorScheme: 'residueindex', colorScale: 'RdYlBu', smoothSheet: true };
  }

  function clearViewer() {
    viewerToken++;
    // NGL 2.5's Trajectory.dispose() stops its player, which sets a frame on
    // the disposed trajectory and logs "updateStructure: traj disposed":
    // drop the (unused) player first.
    if (state.traj && state.traj.trajectory) state.traj.trajectory.player = null;
    if (stage) stage.removeAllComponents();
    state.traj = null;
    state.component = null;
    state.viewerFrames = 0;
    state.viewerFrame = -1;
    state.viewerReady = false;
    if (!state.viewerError) {
      $('viewer-placeholder').textContent = 'Make a path to see its structures here.';
      $('viewer-placeholder').hidden = false;
    }
  }

  async function loadViewer(path) {
    clearViewer();
    if (!stage) return;
    const token = viewerToken;
    $('viewer-placeholder').textContent = `Loading ${path.name}…`;
    try {
      const comp = await stage.loadFile(new Blob([path.pdb], { type: 'text/plain' }), { ext: 'pdb', asTrajectory: true, name: path.name });
      if (token !== viewerToken) {
        stage.removeComponent(comp);
        return;
      }
      const type = $('representation').value;
      comp.addRepresentation(type, repParams(type));
      const traj = comp.addTrajectory();
      traj.signals.frameChanged.add((i) => {
        state.viewerFrame = i;
      });
      state.component = comp;
      state.traj = traj;
      state.viewerFrames = traj.trajectory.frameCount;
      state.viewerReady = true;
      $('viewer-placeholder').hidden = true;
      if (state.viewerFrames !== path.plane_points.length)
        showError(path.name, `the structures have ${state.viewerFrames} models but the path has ${path.plane_points.length} steps`);
      traj.setFrame(clamp(state.currentStep, 0, state.viewerFrames - 1));
      comp.autoView();
      refreshControls();
    } catch (e) {
      if (token !== viewerToken) return;
      $('viewer-placeholder').textContent = 'The structures could not be shown.';
      showError(`3-D view of ${path.name}`, e);
    }
  }

  function setRepresentation() {
    const comp = state.component;
    if (!comp) return;
    const type = $('representation').value;
    comp.removeAllRepresentations();
    comp.addRepresentation(type, repParams(type));
  }

  // -------------------------------------------------------------- downloads
  function downloadPdb() {
    const p = selectedPath();
    if (p) saveBlob(new Blob([p.pdb], { type: 'chemical/x-pdb' }), `${slug(p.name)}.pdb`);
  }

  function downloadDcd() {
    const p = selectedPath();
    if (!p) return;
    run('dcd', `DCD of ${p.name}`, async () => {
      const r = await api('POST', '/api/export', { points: p.points, format: 'dcd' }, 'blob');
      saveBlob(r.body, `${slug(p.name)}.dcd`);
    });
  }

  function csvCell(v) {
    if (v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v))) return '';
    const s = String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  }

  function metricsCsv(p) {
    const k = p.points.length ? p.points[0].length : 0;
    const header = ['step'];
    for (let i = 0; i < k; i++) header.push(`z${i}`);
    for (const m of p.metrics) header.push(m.name);
    const lines = [header.map(csvCell).join(',')];
    for (let s = 0; s < p.points.length; s++) {
      const row = [s, ...p.points[s]];
      for (const m of p.metrics) row.push(m.values[s]);
      lines.push(row.map(csvCell).join(','));
    }
    return lines.join('\n') + '\n';
  }

  function downloadCsv() {
    const p = selectedPath();
    if (p) saveBlob(new Blob([metricsCsv(p)], { type: 'text/csv' }), `${slug(p.name)}-metrics.csv`);
  }

  function downloadPng() {
    if (!state.mapDrawn) return;
    const div = mapDiv();
    const name = state.map ? `molearn-map-${state.map.landscape}-${state.mapGrid}` : 'molearn-map';
    Plotly.downloadImage(div, { format: 'png', width: div.clientWidth || 800, height: div.clientHeight || 600, scale: 2, filename: name })
      .catch((e) => showError('Map PNG', e));
  }

  // ---------------------------------------------------------------- session
  function saveSession() {
    const info = state.info;
    const session = {
      format: 'molearn-gui-session',
      version: 1,
      saved: new Date().toISOString(),
      checkpoint: info.checkpoint,
      model: info.model,
      map: state.map ? { landscape: state.map.landscape, grid: state.mapGrid, zrange: state.zrange } : null,
      paths: state.paths.map((p) => ({
        name: p.name,
        color: p.color,
        landscape: p.landscape,
        settings: p.settings,
        waypoints: p.waypoints,
        waypoint_labels: p.waypointLabels,
        points: p.points,
        plane_points: p.plane_points,
        metrics: p.metrics,
      })),
    };
    saveBlob(new Blob([JSON.stringify(session, null, 1)], { type: 'application/json' }), 'molearn-session.json');
  }

  async function loadSession() {
    const input = $('load-session');
    const file = input.files && input.files[0];
    if (!file) return;
    await run('load', `Session ${file.name}`, async () => {
      let s;
      try {
        s = JSON.parse(await file.text());
      } catch (e) {
        throw new Error(`not a JSON file (${e.message})`);
      }
      if (!s || s.format !== 'molearn-gui-session' || !Array.isArray(s.paths)) throw new Error('not a session saved by molearn gui');
      const dim = state.info.model.latent_dim;
      const problems = [];
      let added = 0;
      let lastId = null;
      for (const [i, sp] of s.paths.entries()) {
        const label = sp.name || `path ${i + 1}`;
        try {
          if (!Array.isArray(sp.points) || sp.points.length < 1) throw new Error('no points');
          if (sp.points.some((q) => !Array.isArray(q) || q.length !== dim))
            throw new Error(`its points are not ${dim}-D: saved with another model?`);
          const pdb = (await api('POST', '/api/export', { points: sp.points, format: 'pdb' }, 'text')).body;
          const id = state.nextPathId++;
          let name = sp.name || `Path ${id}`;
          if (state.paths.some((q) => q.name === name)) name = `${name} (loaded)`;
          for (let k = 2; state.paths.some((q) => q.name === name); k++) name = `${sp.name} (loaded ${k})`;
          const used = new Set(state.paths.map((q) => q.color));
          const color = sp.color && !used.has(sp.color) ? sp.color : PALETTE.find((c) => !used.has(c)) || PALETTE[(id - 1) % PALETTE.length];
          const plane = Array.isArray(sp.plane_points) && sp.plane_points.length === sp.points.length
            ? sp.plane_points
            : sp.points.map((q) => [q[planeDims()[0]], q[planeDims()[1]]]);
          state.paths.push({
            id,
            name,
            color,
            landscape: sp.landscape || 'straight',
            mode: (sp.settings && sp.settings.mode) || (sp.landscape && sp.landscape !== 'straight' ? 'least-cost' : 'straight'),
            settings: sp.settings || {},
            waypoints: Array.isArray(sp.waypoints) ? sp.waypoints : [],
            waypointLabels: Array.isArray(sp.waypoint_labels) ? sp.waypoint_labels : [],
            steps: sp.points.length,
            points: sp.points,
            plane_points: plane,
            metrics: Array.isArray(sp.metrics) ? sp.metrics : [],
            pdb,
          });
          lastId = id;
          added++;
        } catch (e) {
          problems.push(`${label}: ${e.message}`);
        }
      }
      if (lastId !== null) selectPath(lastId, 0);
      const other = s.checkpoint && s.checkpoint !== state.info.checkpoint ? ` (saved with ${basename(s.checkpoint)}, not this checkpoint)` : '';
      showNote(`Loaded ${added} of ${s.paths.length} paths from ${file.name}${other}.`);
      if (problems.length) throw new Error(`some paths could not be loaded: ${problems.join('; ')}`);
    });
    input.value = '';
  }

  // ------------------------------------------------------------------- init
  function wire() {
    $('error-close').addEventListener('click', clearError);
    $('note-close').addEventListener('click', clearNote);
    $('landscape').addEventListener('change', () => {
      // A landscape the server cannot compute is only there at the grids it read.
      const name = $('landscape').value;
      const l = (state.info.landscapes || []).find((x) => x.name === name);
      const grids = (state.info.scanned || []).filter((x) => x.landscape === name).map((x) => x.grid);
      if (l && l.computable === false && grids.length && !grids.includes(Number($('grid').value))) $('grid').value = String(grids[0]);
      loadMap();
    });
    $('grid').addEventListener('change', loadMap);
    $('show-map').addEventListener('click', loadMap);
    $('cancel-scan').addEventListener('click', cancelScan);
    $('download-png').addEventListener('click', downloadPng);
    $('zmin').addEventListener('change', applyColourRange);
    $('zmax').addEventListener('change', applyColourRange);
    $('zreset').addEventListener('click', resetColourRange);
    $('add-frame').addEventListener('click', addFrameWaypoint);
    $('frame').addEventListener('keydown', (e) => { if (e.key === 'Enter') addFrameWaypoint(); });
    $('pdb-file').addEventListener('change', addPdbWaypoint);
    $('clear-waypoints').addEventListener('click', () => {
      state.waypoints = [];
      renderWaypoints();
      drawMap();
    });
    $('make-path').addEventListener('click', makePath);
    $('steps').addEventListener('keydown', (e) => { if (e.key === 'Enter' && !$('make-path').disabled) makePath(); });
    $('mode').addEventListener('change', refreshControls);
    $('representation').addEventListener('change', setRepresentation);
    $('play').addEventListener('click', () => (state.playing ? pause() : play()));
    $('step-slider').addEventListener('input', (e) => {
      const v = Number(e.target.value);
      pause();
      setStep(v);
    });
    $('metric').addEventListener('change', (e) => {
      state.metric = e.target.value;
      drawMetrics();
    });
    $('download-pdb').addEventListener('click', downloadPdb);
    $('download-dcd').addEventListener('click', downloadDcd);
    $('download-csv').addEventListener('click', downloadCsv);
    $('save-session').addEventListener('click', saveSession);
    $('load-session').addEventListener('change', loadSession);
  }

  async function init() {
    wire();
    refreshControls();
    if (typeof Plotly === 'undefined') {
      showError('Page', 'plotly.js did not load (/assets/plotly.min.js): the map and the metrics cannot be drawn');
      $('map-placeholder').textContent = 'plotly.js is missing.';
      $('map-placeholder').classList.add('bad');
    }
    initViewer();
    let info;
    try {
      info = (await api('GET', '/api/info')).body;
    } catch (e) {
      showError('Loading the model (/api/info)', e);
      $('map-placeholder').textContent = 'The model could not be loaded; see the message above and reload the page.';
      $('map-placeholder').classList.add('bad');
      $('summary').textContent = '';
      return;
    }
    state.info = info;
    renderSummary();
    const lim = limits();
    const sel = $('landscape');
    for (const l of info.landscapes || []) {
      const o = document.createElement('option');
      o.value = l.name;
      o.textContent = withUnit(l.name, l.unit) + (l.computable === false ? ' · scan folder only' : '');
      o.title = (l.description || '') + (l.computable === false ? ' (cannot be computed by this server: only the grids read from --scan)' : '');
      sel.append(o);
    }
    if (Array.isArray(info.notes) && info.notes.length) showNote(info.notes.join('\n'));
    const def = info.default || {};
    if (def.landscape && (info.landscapes || []).some((l) => l.name === def.landscape)) sel.value = def.landscape;
    $('grid').value = String(def.grid || 32);
    if (lim.max_grid) $('grid').max = String(lim.max_grid);
    if (lim.max_steps) $('steps').max = String(lim.max_steps);
    if (info.dataset && info.dataset.frames) $('frame').max = String(info.dataset.frames - 1);
    refreshControls();
    if (typeof Plotly === 'undefined') return;
    await drawMap();
    mapDiv().on('plotly_click', onMapClick);
    if (!(info.landscapes || []).length) {
      showNote('This server has no landscapes to map; the encoded frames are shown on the plane.');
      return;
    }
    $('map-placeholder').hidden = false;
    $('map-placeholder').textContent = 'Loading the map…';
    await loadMap();
    if (!state.mapDrawn) $('map-placeholder').hidden = true;
  }

  window.addEventListener('error', (e) => showError('Unexpected error', e.error || e.message));
  window.addEventListener('unhandledrejection', (e) => showError('Unexpected error', e.reason || 'a promise failed'));
  const start = () => init().catch((e) => showError('Starting the page', e));
  if (document.readyState === 'loading') window.addEventListener('DOMContentLoaded', start);
  else start();
})();
