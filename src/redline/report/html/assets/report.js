// redline report: sortable tables and chart tooltips. The page reads the same without it.
"use strict";
(function () {
  // -- units, as redline's Python formatters write them -------------------------
  var BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];
  function count(v) {
    return Math.abs(v) >= 10 || v === Math.round(v)
      ? Math.round(v).toLocaleString("en-US")
      : Number(v.toPrecision(2)).toString();
  }
  function latency(us) {
    if (us < 1000) return us.toFixed(0) + " \u00b5s";
    if (us < 1000000) return (us / 1000).toFixed(2) + " ms";
    return (us / 1000000).toFixed(2) + " s";
  }
  function bytes(v) {
    for (var i = 0; i < BYTE_UNITS.length - 1; i++) {
      if (Math.abs(v) < 1024) return i === 0 ? v.toFixed(0) + " B" : v.toFixed(1) + " " + BYTE_UNITS[i];
      v /= 1024;
    }
    return v.toFixed(1) + " TiB";
  }
  var FORMATS = {
    latency: latency,
    rate: function (v) { return count(v) + "/s"; },
    share: function (v) { return (v * 100).toFixed(1) + "%"; },
    bytes: bytes,
    bytes_rate: function (v) { return bytes(v) + "/s"; },
    count: count,
    cores: function (v) { return v.toFixed(2) + " cores"; }
  };
  function xLabel(unit, x) {
    if (unit === "s") return "at " + Math.round(x) + " s";
    if (unit === "p") return "p" + Number(x.toPrecision(6));
    return Number(x.toPrecision(4)) + " " + unit;
  }

  // -- sortable tables --------------------------------------------------------------
  function cellValue(row, index, numeric) {
    var cell = row.cells[index];
    if (!cell) return numeric ? -Infinity : "";
    var raw = cell.getAttribute("data-value");
    if (numeric) {
      var n = parseFloat(raw === null ? cell.textContent : raw);
      return isNaN(n) ? -Infinity : n;
    }
    return (raw === null ? cell.textContent : raw).toLowerCase();
  }
  function sortBy(table, th) {
    var index = Array.prototype.indexOf.call(th.parentNode.cells, th);
    var numeric = th.getAttribute("data-sort") === "num";
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    if (th.getAttribute("aria-sort") === null && numeric) ascending = false; // biggest first
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, index, numeric), y = cellValue(b, index, numeric);
      var order = x < y ? -1 : x > y ? 1 : 0;
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(th.parentNode.cells, function (other) {
      if (other !== th) other.removeAttribute("aria-sort");
    });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    Array.prototype.forEach.call(table.querySelectorAll("thead th[data-sort]"), function (th) {
      th.tabIndex = 0;
      th.title = "sort by " + th.textContent;
      th.addEventListener("click", function () { sortBy(table, th); });
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(table, th); }
      });
    });
  });

  // -- chart tooltips -----------------------------------------------------------------
  var tooltip = document.querySelector(".tooltip");
  function nearest(px, x) {
    var low = 0, high = px.length - 1;
    while (high - low > 1) {
      var mid = (low + high) >> 1;
      if (px[mid] < x) low = mid; else high = mid;
    }
    return Math.abs(px[low] - x) <= Math.abs(px[high] - x) ? low : high;
  }
  function show(figure, tips, event) {
    var svg = figure.querySelector("svg");
    var box = svg.getBoundingClientRect();
    var x = (event.clientX - box.left) * tips.w / box.width;
    var i = nearest(tips.px, x);
    var cursor = svg.querySelector(".cursor");
    if (cursor) {
      var vb = svg.viewBox.baseVal;
      cursor.setAttribute("x1", tips.px[i]); cursor.setAttribute("x2", tips.px[i]);
      cursor.setAttribute("y1", 0); cursor.setAttribute("y2", vb.height);
    }
    var format = FORMATS[tips.unit] || count;
    tooltip.textContent = "";
    var head = document.createElement("div");
    head.className = "head";
    head.textContent = xLabel(tips.xunit, tips.x[i]);
    tooltip.appendChild(head);
    tips.s.forEach(function (s) {
      var v = s.v[i];
      if (v === null || v === undefined) return;
      var row = document.createElement("div");
      row.className = "row";
      var swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.borderColor = s.c;
      row.appendChild(swatch);
      row.appendChild(document.createTextNode(s.l + ": " + format(v)));
      tooltip.appendChild(row);
    });
    tooltip.hidden = false;
    var left = event.clientX + 14, top = event.clientY + 14;
    if (left + tooltip.offsetWidth > window.innerWidth) left = event.clientX - tooltip.offsetWidth - 14;
    if (top + tooltip.offsetHeight > window.innerHeight) top = event.clientY - tooltip.offsetHeight - 14;
    tooltip.style.left = left + "px";
    tooltip.style.top = top + "px";
  }
  function hide(figure) {
    tooltip.hidden = true;
    var cursor = figure.querySelector(".cursor");
    if (cursor) { cursor.setAttribute("x1", -10); cursor.setAttribute("x2", -10); }
  }
  Array.prototype.forEach.call(document.querySelectorAll("figure[data-tips]"), function (figure) {
    var tips = JSON.parse(figure.getAttribute("data-tips"));
    if (!tips.px.length) return;
    var svg = figure.querySelector("svg");
    svg.addEventListener("mousemove", function (e) { show(figure, tips, e); });
    svg.addEventListener("mouseleave", function () { hide(figure); });
  });

  // -- printing: every collapsed part (flame graphs) is printed open --------------
  window.addEventListener("beforeprint", function () {
    Array.prototype.forEach.call(document.querySelectorAll("details"), function (d) { d.open = true; });
  });
})();
