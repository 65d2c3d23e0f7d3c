// redline live dashboard: reads /events (server-sent events) and draws its own canvas charts.
"use strict";
(() => {
  const token = new URLSearchParams(location.search).get("token");
  const withToken = (path) => (token ? `${path}?token=${encodeURIComponent(token)}` : path);
  const $ = (id) => document.getElementById(id);

  // Okabe–Ito colours: told apart with every common colour-vision deficiency.
  const COLOURS = { blue: "#0072B2", orange: "#E69F00", vermillion: "#D55E00", green: "#009E73", purple: "#CC79A7" };
  const MAX_POINTS = 3600;
  const points = [];
  let ended = false;
  let plannedS = 0;  // the time axis spans the whole plan, so the charts show how far along it is

  const CHARTS = [
    { id: "chart-throughput", unit: "/s", series: [
      { key: "rps", label: "requests/s", colour: COLOURS.blue },
      { key: "errors", label: "errors/s", colour: COLOURS.vermillion } ] },
    { id: "chart-latency", unit: "ms", series: [
      { key: "p50_ms", label: "p50", colour: COLOURS.green },
      { key: "p95_ms", label: "p95", colour: COLOURS.orange },
      { key: "p99_ms", label: "p99", colour: COLOURS.vermillion } ] },
    { id: "chart-vus", unit: "", series: [
      { key: "vus", label: "active VUs", colour: COLOURS.purple } ] },
  ];

  // -- formatting ----------------------------------------------------------

  const integer = new Intl.NumberFormat("en", { maximumFractionDigits: 0 });
  const decimal = new Intl.NumberFormat("en", { maximumFractionDigits: 1 });
  function ms(value) {
    if (value === null || value === undefined) return "–";
    if (value < 1) return `${integer.format(value * 1000)} µs`;
    if (value < 1000) return `${value < 10 ? value.toFixed(2) : decimal.format(value)} ms`;
    return `${(value / 1000).toFixed(2)} s`;
  }
  function duration(seconds) {
    const s = Math.max(0, Math.round(seconds));
    const m = Math.floor(s / 60);
    return m ? `${m}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
  }
  function percent(fraction) { return `${(fraction * 100).toFixed(2)}%`; }
  function cell(row, text, className) {
    const td = row.insertCell();
    td.textContent = text;
    if (className) td.className = className;
  }

  // -- charts ----------------------------------------------------------------

  function niceStep(range, ticks) {
    const raw = range / ticks;
    const magnitude = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 2.5, 5, 10].find((m) => m * magnitude >= raw);
    return step * magnitude;
  }

  function axisLabel(value, unit) {
    const text = value >= 1000 ? `${decimal.format(value / 1000)}k` : decimal.format(value);
    return unit ? `${text} ${unit}` : text;
  }

  function draw(chart) {
    const canvas = $(chart.id);
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.font = "11px system-ui, sans-serif";
    const left = 62, right = 10, top = 22, bottom = 22;
    const plotW = width - left - right, plotH = height - top - bottom;
    let drawn = 0;
    // Legend.
    let x = left;
    for (const s of chart.series) {
      ctx.fillStyle = s.colour;
      ctx.fillRect(x, 6, 12, 3);
      ctx.fillStyle = "#333";
      ctx.fillText(s.label, x + 16, 11);
      x += ctx.measureText(s.label).width + 32;
    }
    if (!points.length) {
      ctx.fillStyle = "#888";
      ctx.fillText("waiting for data…", left + 8, top + plotH / 2);
      canvas.dataset.points = "0";
      return;
    }
    const t0 = Math.max(0, points[0].t - 1);
    const t1 = Math.max(points[points.length - 1].t, t0 + 10, plannedS);
    let yMax = 0;
    for (const p of points) for (const s of chart.series) if (p[s.key] != null) yMax = Math.max(yMax, p[s.key]);
    const yStep = niceStep(yMax > 0 ? yMax : 1, 4);
    const yTop = Math.max(yStep, Math.ceil((yMax * 1.05) / yStep) * yStep);
    const px = (t) => left + ((t - t0) / (t1 - t0)) * plotW;
    const py = (v) => top + plotH - (v / yTop) * plotH;
    // Grid and axes.
    ctx.strokeStyle = "#e3e5e8";
    ctx.fillStyle = "#666";
    ctx.lineWidth = 1;
    ctx.textAlign = "right";
    for (let v = 0; v <= yTop + yStep / 2; v += yStep) {
      const y = Math.round(py(v)) + 0.5;
      ctx.beginPath(); ctx.moveTo(left, y); ctx.lineTo(left + plotW, y); ctx.stroke();
      ctx.fillText(axisLabel(v, chart.unit), left - 6, y + 4);
    }
    ctx.textAlign = "center";
    const tStep = niceStep(t1 - t0, 6);
    for (let t = Math.ceil(t0 / tStep) * tStep; t <= t1; t += tStep) {
      ctx.fillText(duration(t), px(t), top + plotH + 15);
    }
    ctx.textAlign = "left";
    // Lines.
    ctx.lineWidth = 2;
    ctx.lineJoin = "round";
    for (const s of chart.series) {
      ctx.strokeStyle = s.colour;
      ctx.beginPath();
      let pen = false;
      for (const p of points) {
        const v = p[s.key];
        if (v == null) { pen = false; continue; }
        if (pen) ctx.lineTo(px(p.t), py(v)); else ctx.moveTo(px(p.t), py(v));
        pen = true;
        drawn += 1;
      }
      ctx.stroke();
    }
    canvas.dataset.points = String(drawn);
  }

  let queued = false;
  function redraw() {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; CHARTS.forEach(draw); });
  }
  window.addEventListener("resize", redraw);

  // -- the page's text -----------------------------------------------------------

  function setStatus(state, text) {
    const pill = $("status");
    pill.dataset.state = state;
    pill.textContent = text;
  }

  function fillEndpoints(rows) {
    const body = $("endpoints").tBodies[0];
    body.replaceChildren();
    for (const r of rows) {
      const row = body.insertRow();
      cell(row, r.name);
      cell(row, integer.format(r.count));
      cell(row, decimal.format(r.rps));
      cell(row, `${integer.format(r.failures)} (${percent(r.error_rate)})`, r.failures ? "fail" : "");
      cell(row, ms(r.p50_ms)); cell(row, ms(r.p95_ms)); cell(row, ms(r.p99_ms)); cell(row, ms(r.max_ms));
    }
  }

  function fillErrors(errors) {
    const kinds = Object.entries(errors);
    $("no-errors").hidden = kinds.length > 0;
    $("errors").hidden = kinds.length === 0;
    const body = $("errors").tBodies[0];
    body.replaceChildren();
    for (const [kind, count] of kinds) {
      const row = body.insertRow();
      cell(row, kind);
      cell(row, integer.format(count));
    }
  }

  function onSecond(m) {
    if (!points.length || points[points.length - 1].t < m.point.t) points.push(m.point);
    if (points.length > MAX_POINTS) points.splice(0, points.length - MAX_POINTS);
    if (ended) return;  // a late "second" never overwrites the final summary
    plannedS = m.planned_s;
    $("plan").textContent = m.plan;
    setStatus("running", "running");
    $("stop").disabled = $("stop").dataset.sent === "1";
    const share = m.planned_s ? Math.min(1, m.elapsed_s / m.planned_s) : 1;
    $("bar-fill").style.width = `${(share * 100).toFixed(1)}%`;
    $("clock").textContent = `${duration(m.elapsed_s)} of ${duration(m.planned_s)} · ${duration(m.left_s)} left`;
    const st = m.stage;
    $("stage").textContent = st
      ? `· ${st.name} (${st.index}/${st.count}, ${st.kind} to ${decimal.format(st.level)}${st.unit.startsWith("/") ? "" : " "}${st.unit}), ${duration(st.left_s)} left in it`
      : "";
    const p = m.point;
    $("tile-rps").textContent = decimal.format(p.rps);
    $("tile-errors").textContent = integer.format(p.errors);
    $("tile-p50").textContent = ms(p.p50_ms);
    $("tile-p95").textContent = ms(p.p95_ms);
    $("tile-p99").textContent = ms(p.p99_ms);
    $("tile-vus").textContent = p.vus == null ? "–" : integer.format(p.vus);
    fillEndpoints(m.endpoints);
    fillErrors(m.errors);
    redraw();
  }

  function onEnd(s) {
    ended = true;
    setStatus(s.partial ? "partial" : "ended", s.stopped_here ? "stopped from here" : s.status);
    $("plan").textContent = s.plan;
    $("stop").disabled = true;
    $("stop").textContent = "Run ended";
    $("summary").hidden = false;
    $("summary-status").textContent = s.status_text;
    const t = s.total;
    $("summary-figures").textContent =
      `${integer.format(t.count)} requests in ${duration(s.elapsed_s)} (${decimal.format(t.rps)} req/s), ` +
      `${integer.format(t.failures)} failed (${percent(t.error_rate)}); ` +
      `p50 ${ms(t.p50_ms)}, p95 ${ms(t.p95_ms)}, p99 ${ms(t.p99_ms)}` +
      (s.aborted_by ? `; stopped by ${s.aborted_by}` : "") + ` · run ${s.run_id}`;
    if (s.report) {
      $("summary-report").hidden = false;
      $("report-link").href = withToken("report");
      $("report-path").textContent = s.report;
    }
    const thresholds = $("thresholds");
    thresholds.hidden = s.thresholds.length === 0;
    thresholds.tBodies[0].replaceChildren();
    for (const th of s.thresholds) {
      const row = thresholds.tBodies[0].insertRow();
      cell(row, th.passed ? "✓ pass" : "✗ FAIL", th.passed ? "pass" : "fail");
      cell(row, th.source);
      cell(row, th.observed == null ? "" : decimal.format(th.observed));
    }
    // The tiles now hold the whole run's figures, not the last (partial) second's.
    $("label-rps").textContent = "requests/s (run)";
    $("label-errors").textContent = "failed (run)";
    $("tile-rps").textContent = decimal.format(t.rps);
    $("tile-errors").textContent = integer.format(t.failures);
    $("tile-p50").textContent = ms(t.p50_ms);
    $("tile-p95").textContent = ms(t.p95_ms);
    $("tile-p99").textContent = ms(t.p99_ms);
    $("tile-vus").textContent = "0";
    $("clock").textContent = `ended after ${duration(s.elapsed_s)}`;
    $("stage").textContent = "";
    $("errors-when").textContent = "(whole run)";
    fillEndpoints(s.endpoints);
    fillErrors(s.errors);
    redraw();
  }

  // -- the stream ------------------------------------------------------------------

  const source = new EventSource(withToken("events"));
  source.addEventListener("history", (e) => {
    points.splice(0, points.length, ...JSON.parse(e.data).points);
    if (!ended) setStatus("running", points.length ? "running" : "starting…");
    $("stop").disabled = ended || $("stop").dataset.sent === "1";
    redraw();
  });
  source.addEventListener("second", (e) => onSecond(JSON.parse(e.data)));
  source.addEventListener("end", (e) => { onEnd(JSON.parse(e.data)); source.close(); });
  source.onerror = () => { if (!ended) setStatus("lost", "reconnecting…"); };

  $("stop").addEventListener("click", async () => {
    const button = $("stop");
    button.disabled = true;
    button.dataset.sent = "1";
    button.textContent = "Stopping…";
    setStatus("stopping", "stopping");
    const response = await fetch(withToken("stop"), { method: "POST" });
    if (!response.ok && !ended) button.textContent = `Stop refused (${response.status})`;
  });
  $("metrics-link").href = withToken("metrics");
  redraw();
})();
