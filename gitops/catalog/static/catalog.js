// The model catalog's one script (no inline script: the pages' Content-Security-Policy allows
// only this file and the vendored uPlot). Two jobs:
// 1. filter boxes: <input data-filter="TABLE_ID"> hides the rows of that table whose
//    data-search text does not contain every word typed (case-insensitive);
// 2. charts: <div class="chart" data-chart="N"> draws series N of the page's
//    <script type="application/json" id="chart-data"> with uPlot.
// Text from the repository is only ever set with textContent or read from data attributes:
// nothing is parsed as HTML.
(function () {
  "use strict";

  function setUpFilter(input) {
    var table = document.getElementById(input.getAttribute("data-filter"));
    if (!table) return;
    var rows = Array.prototype.slice.call(table.tBodies[0] ? table.tBodies[0].rows : []);
    var texts = rows.map(function (row) {
      return (row.getAttribute("data-search") || row.textContent).toLowerCase();
    });
    var count = document.getElementById(input.id + "-count");
    function apply() {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      rows.forEach(function (row, i) {
        var match = words.every(function (w) { return texts[i].indexOf(w) !== -1; });
        row.hidden = !match;
        if (match) shown += 1;
      });
      if (count) {
        count.textContent = words.length ? shown + " of " + rows.length + " shown" : "";
      }
    }
    input.addEventListener("input", apply);
    if (input.value) apply();
  }

  function cssVar(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function drawCharts() {
    var holder = document.getElementById("chart-data");
    var boxes = document.querySelectorAll(".chart[data-chart]");
    if (!holder || !boxes.length || typeof window.uPlot !== "function") return;
    var data = JSON.parse(holder.textContent);
    var versions = data.versions;
    var xs = versions.map(function (_, i) { return i; });
    var charts = [];
    var fg = cssVar("--fg", "#1b1f24");
    var grid = cssVar("--chart-grid", "#d0d7de");
    var color = cssVar("--series", "#0969da");
    boxes.forEach(function (box) {
      var series = data.series[Number(box.getAttribute("data-chart"))];
      if (!series) return;
      var axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
      var opts = {
        width: Math.max(260, box.clientWidth),
        height: 220,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: false } },
        axes: [
          Object.assign({}, axis, {
            incrs: [1, 2, 5, 10, 20, 50, 100],
            values: function (u, ticks) {
              return ticks.map(function (t) { return versions[t] === undefined ? "" : versions[t]; });
            }
          }),
          Object.assign({}, axis, { size: 60 })
        ],
        series: [
          { label: "version", value: function (u, v) { return v == null ? "" : versions[v]; } },
          { label: series.label, stroke: color, width: 2, spanGaps: true,
            points: { show: true, size: 6, fill: color } }
        ]
      };
      charts.push([box, new window.uPlot(opts, [xs, series.values], box)]);
    });
    var resize = function () {
      charts.forEach(function (pair) {
        pair[1].setSize({ width: Math.max(260, pair[0].clientWidth), height: 220 });
      });
    };
    window.addEventListener("resize", resize);
  }

  document.querySelectorAll("input[data-filter]").forEach(setUpFilter);
  drawCharts();
})();
