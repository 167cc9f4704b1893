/**
 * The dashboard at /tinyllm/dashboard: one static page, no build step and no library. Its script
 * polls /tinyllm/stats and /tinyllm/activity (every 2 s, or ?interval=ms) and draws the charts as
 * SVG. With API keys, the key goes in the URL fragment (#key=...): a fragment never leaves the
 * browser (no server log, no Referer), and the script sends it as `Authorization: Bearer`.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>TinyLLM cache</title>
<link rel="icon" href="data:,">
<style>
  :root { --hit: #2f9e44; --miss: #e8590c; --coalesced: #1971c2; --stale: #9c36b5; --bypass: #868e96; color-scheme: light dark; }
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; padding: 16px 24px; background: Canvas; color: CanvasText; }
  h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 15px; margin: 20px 0 8px; }
  #state { color: GrayText; font-size: 12px; } #state.error { color: #e03131; }
  .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; margin-top: 12px; }
  .card { border: 1px solid color-mix(in srgb, CanvasText 15%, transparent); border-radius: 8px; padding: 10px 12px; }
  .card .label { font-size: 12px; color: GrayText; } .card .value { font-size: 22px; font-weight: 600; }
  .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(380px, 1fr)); gap: 16px; }
  svg { width: 100%; height: 180px; border: 1px solid color-mix(in srgb, CanvasText 15%, transparent); border-radius: 8px; }
  table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid color-mix(in srgb, CanvasText 10%, transparent); }
  td.n, th.n { text-align: right; }
  .legend span { display: inline-block; margin-right: 12px; font-size: 12px; } .legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; border-radius: 2px; }
  .HIT { color: var(--hit); } .MISS { color: var(--miss); } .COALESCED { color: var(--coalesced); } .STALE { color: var(--stale); } .BYPASS { color: var(--bypass); }
</style>
</head>
<body>
<h1>TinyLLM cache</h1>
<div id="state">connecting...</div>
<div class="cards">
  <div class="card"><div class="label">hit rate</div><div class="value" id="hit-rate" data-value="">-</div></div>
  <div class="card"><div class="label">hits</div><div class="value" id="hits" data-value="">-</div></div>
  <div class="card"><div class="label">misses</div><div class="value" id="misses" data-value="">-</div></div>
  <div class="card"><div class="label">time saved</div><div class="value" id="saved-time" data-value="">-</div></div>
  <div class="card"><div class="label">tokens saved</div><div class="value" id="saved-tokens" data-value="">-</div></div>
  <div class="card"><div class="label">entries</div><div class="value" id="entries" data-value="">-</div></div>
  <div class="card"><div class="label">bytes</div><div class="value" id="bytes" data-value="">-</div></div>
  <div class="card"><div class="label">backend</div><div class="value" id="backend" data-value="">-</div></div>
</div>
<div class="charts">
  <div><h2>Hit rate over time (5 s steps, last 10 minutes)</h2><svg id="chart-hit-rate" viewBox="0 0 600 180" preserveAspectRatio="none" role="img" aria-label="hit rate over time"></svg></div>
  <div><h2>Requests by cache status <span class="legend" id="legend"></span></h2><svg id="chart-status" viewBox="0 0 600 180" preserveAspectRatio="none" role="img" aria-label="requests by cache status"></svg></div>
</div>
<h2>Requests by cache status (last 10 minutes)</h2>
<div class="cards" id="status-totals"></div>
<h2>By model</h2>
<table id="models"><thead><tr><th>model</th><th class="n">hits</th><th class="n">misses</th><th class="n">hit rate</th><th class="n">time saved</th><th class="n">tokens saved</th></tr></thead><tbody></tbody></table>
<h2>Recent requests</h2>
<table id="recent"><thead><tr><th>time</th><th>route</th><th>model</th><th>cache</th><th class="n">status</th><th class="n">ms</th><th>key</th><th>tenant</th><th class="prompt-col">prompt</th></tr></thead><tbody></tbody></table>
<script>
(() => {
  const STATUSES = ['HIT', 'MISS', 'COALESCED', 'STALE', 'BYPASS'];
  const COLORS = { HIT: 'var(--hit)', MISS: 'var(--miss)', COALESCED: 'var(--coalesced)', STALE: 'var(--stale)', BYPASS: 'var(--bypass)' };
  const params = new URLSearchParams(location.search);
  const intervalMs = Math.max(250, Number(params.get('interval')) || 2000);
  const key = new URLSearchParams(location.hash.slice(1)).get('key');
  const headers = key ? { Authorization: 'Bearer ' + key } : {};
  const $ = (id) => document.getElementById(id);
  const count = (n) => Math.round(n).toLocaleString('en-US');
  const pct = (r) => (r * 100).toFixed(1) + '%';
  const bytes = (b) => { if (b === null || b === undefined) return '-'; const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB']; let i = 0; while (b >= 1024 && i < u.length - 1) { b /= 1024; i++; } return (i ? b.toFixed(1) : b) + ' ' + u[i]; };
  const duration = (ms) => ms < 1000 ? Math.round(ms) + ' ms' : ms < 60000 ? (ms / 1000).toFixed(1) + ' s' : ms < 3600000 ? Math.floor(ms / 60000) + ' min ' + Math.round((ms % 60000) / 1000) + ' s' : (ms / 3600000).toFixed(1) + ' h';
  const set = (id, value, text) => { const el = $(id); el.dataset.value = String(value); el.textContent = text; };
  const cell = (text, cls) => { const td = document.createElement('td'); td.textContent = text; if (cls) td.className = cls; return td; };
  const legend = $('legend');
  for (const s of STATUSES) { const span = document.createElement('span'); const i = document.createElement('i'); i.style.background = COLORS[s]; span.append(i, s); legend.append(span); }
  const NS = 'http://www.w3.org/2000/svg';
  const svgEl = (name, attrs) => { const el = document.createElementNS(NS, name); for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v)); return el; };

  // Both charts span the whole window the proxy keeps (10 minutes of 5 s buckets), newest at the right.
  const WINDOW_MS = 600000;
  const xOf = (at, now) => ((at - (now - WINDOW_MS)) / WINDOW_MS) * 560 + 36;
  const axis = (svg, labels) => {
    for (const [y, text] of labels) {
      svg.append(svgEl('line', { x1: 36, x2: 600, y1: y, y2: y, stroke: 'currentColor', 'stroke-opacity': 0.15 }));
      const label = svgEl('text', { x: 2, y: y + 4, 'font-size': 11, fill: 'currentColor', 'fill-opacity': 0.6 });
      label.textContent = text;
      svg.append(label);
    }
  };

  function drawHitRate(timeline, now) {
    const svg = $('chart-hit-rate');
    svg.replaceChildren();
    axis(svg, [[170, '0%'], [90, '50%'], [10, '100%']]);
    const points = [];
    for (const b of timeline) {
      const looked = b.HIT + b.STALE + b.MISS + b.COALESCED;
      if (looked === 0) continue;
      points.push(xOf(b.at + 2500, now).toFixed(1) + ',' + (170 - ((b.HIT + b.STALE) / looked) * 160).toFixed(1));
    }
    svg.dataset.points = String(points.length);
    if (points.length > 1) svg.append(svgEl('polyline', { points: points.join(' '), fill: 'none', stroke: 'var(--hit)', 'stroke-width': 2, 'vector-effect': 'non-scaling-stroke' }));
    for (const p of points) { const [x, y] = p.split(','); svg.append(svgEl('circle', { cx: x, cy: y, r: 3, fill: 'var(--hit)' })); }
  }

  function drawStatus(timeline, now) {
    const svg = $('chart-status');
    svg.replaceChildren();
    const max = Math.max(1, ...timeline.map((b) => STATUSES.reduce((sum, s) => sum + b[s], 0)));
    axis(svg, [[175, '0'], [10, String(max)]]);
    const width = (5000 / WINDOW_MS) * 560;
    let bars = 0;
    for (const b of timeline) {
      let y = 175;
      for (const s of STATUSES) {
        if (b[s] === 0) continue;
        const h = (b[s] / max) * 165;
        y -= h;
        svg.append(svgEl('rect', { x: xOf(b.at, now) + 0.5, y, width: Math.max(width - 1, 1), height: h, fill: COLORS[s] }));
        bars++;
      }
    }
    svg.dataset.bars = String(bars);
  }

  function render(stats, activity) {
    set('hit-rate', stats.hitRate ?? 0, pct(stats.hitRate ?? 0));
    set('hits', stats.hits ?? 0, count(stats.hits ?? 0));
    set('misses', stats.misses ?? 0, count(stats.misses ?? 0));
    set('saved-time', stats.savedMs ?? 0, duration(stats.savedMs ?? 0));
    set('saved-tokens', stats.savedTokens ?? 0, count(stats.savedTokens ?? 0));
    set('entries', stats.entries ?? 0, count(stats.entries ?? 0));
    set('bytes', stats.bytes ?? '', bytes(stats.bytes));
    set('backend', stats.backend ?? '', (stats.backend ?? '-') + (stats.namespace ? ' (' + stats.namespace + ')' : ''));
    const models = $('models').tBodies[0];
    models.replaceChildren(...(stats.byModel ?? []).map((m) => {
      const tr = document.createElement('tr');
      tr.dataset.model = m.model;
      tr.append(cell(m.model), cell(count(m.hits), 'n'), cell(count(m.misses), 'n'), cell(pct(m.hitRate), 'n'), cell(duration(m.savedMs), 'n'), cell(count(m.savedTokens), 'n'));
      return tr;
    }));
    if (activity === null) return;
    const now = Date.now();
    drawHitRate(activity.timeline, now);
    drawStatus(activity.timeline, now);
    const totals = $('status-totals');
    totals.replaceChildren(...STATUSES.map((s) => {
      const n = activity.timeline.reduce((sum, b) => sum + b[s], 0);
      const card = document.createElement('div');
      card.className = 'card';
      card.innerHTML = '<div class="label"></div><div class="value"></div>';
      card.firstChild.textContent = s;
      card.lastChild.textContent = count(n);
      card.lastChild.className = 'value ' + s;
      card.lastChild.id = 'status-' + s;
      card.lastChild.dataset.value = String(n);
      return card;
    }));
    for (const el of document.querySelectorAll('.prompt-col')) el.hidden = !activity.prompts;
    const recent = $('recent').tBodies[0];
    recent.replaceChildren(...activity.recent.map((r) => {
      const tr = document.createElement('tr');
      tr.append(cell(new Date(r.at).toLocaleTimeString()), cell(r.route), cell(r.model ?? '-'), cell(r.cache, r.cache), cell(String(r.status), 'n'), cell(r.ms.toFixed(1), 'n'), cell(r.key ?? '-'), cell(r.tenant ?? '-'));
      const prompt = cell(r.prompt ?? '', 'prompt-col');
      prompt.hidden = !activity.prompts;
      tr.append(prompt);
      return tr;
    }));
  }

  async function getJson(path) {
    const response = await fetch(path, { headers, cache: 'no-store' });
    if (response.status === 401 || response.status === 403) throw Object.assign(new Error(path + ': ' + response.status + (key ? ' (this key may not use it)' : ' (add #key=<your key> to the URL)')), { status: response.status });
    if (!response.ok) throw new Error(path + ': HTTP ' + response.status);
    return response.json();
  }

  let updates = 0;
  async function tick() {
    const state = $('state');
    try {
      const [stats, activity] = await Promise.all([getJson('/tinyllm/stats'), getJson('/tinyllm/activity').catch((e) => (e.status === 403 ? null : Promise.reject(e)))]);
      render(stats, activity);
      updates++;
      document.body.dataset.updates = String(updates);
      state.className = '';
      state.textContent = 'updated ' + new Date().toLocaleTimeString() + ' · every ' + (intervalMs / 1000) + ' s' + (activity === null ? ' · activity needs an admin key' : '');
    } catch (error) {
      state.className = 'error';
      state.textContent = String(error.message || error);
    } finally {
      setTimeout(tick, intervalMs);
    }
  }
  tick();
})();
</script>
</body>
</html>
`;
