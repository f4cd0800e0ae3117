/* The console's dashboard (backoffice/templates/admin/index.html): draws the gateway's own figures,
 * embedded in the page as JSON (#dashboard-data, backoffice/dashboard.py), with the bundled Chart.js.
 * No request leaves for another host; no inline script (the admin's content security policy). */
(function () {
  "use strict";

  const COLOURS = ["#417690", "#e0a040", "#5a9e6f", "#b04a4a", "#7b61a8", "#4aa3b0", "#8a8a8a"];

  function colour(index) {
    return COLOURS[index % COLOURS.length];
  }

  function major(minor, currency, exponents) {
    return minor / Math.pow(10, exponents[currency] || 0);
  }

  function lineLabel(line, data) {
    return (data.rail_labels[line.rail] || line.rail) + " · " + line.provider;
  }

  function bars(labels, datasets) {
    return { type: "bar", data: { labels: labels, datasets: datasets } };
  }

  function volume(data, window, canvas) {
    const lines = data.windows[window].traffic;
    return bars(lines.map(function (line) { return lineLabel(line, data); }), [
      { label: canvas.dataset.label, data: lines.map(function (line) { return line.count; }), backgroundColor: colour(0) },
    ]);
  }

  function amount(data, window) {
    const lines = data.windows[window].traffic;
    const currencies = Array.from(new Set(lines.map(function (line) { return line.currency; }))).sort();
    return bars(lines.map(function (line) { return lineLabel(line, data); }), currencies.map(function (currency, index) {
      return {
        label: currency,
        data: lines.map(function (line) {
          return line.currency === currency ? major(line.amount_minor, currency, data.exponents) : null;
        }),
        backgroundColor: colour(index + 1),
      };
    }));
  }

  function success(data, window, canvas) {
    const rates = data.windows[window].success_rates;
    const providers = Object.keys(rates);
    const chart = bars(providers, [
      { label: canvas.dataset.label, data: providers.map(function (p) { return rates[p]; }), backgroundColor: colour(2) },
    ]);
    chart.options = { scales: { y: { min: 0, max: 100 } } };
    return chart;
  }

  function overTime(data, window) {
    const series = data.windows[window].over_time;
    const chart = bars(series.labels, Object.keys(series.counts).map(function (rail, index) {
      return { label: data.rail_labels[rail] || rail, data: series.counts[rail], backgroundColor: colour(index) };
    }));
    chart.options = { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } };
    return chart;
  }

  function unknown(data, window, canvas) {
    const providers = Object.keys(data.unknown.providers).sort();
    return bars(providers, [
      {
        label: canvas.dataset.label,
        data: providers.map(function (p) { return data.unknown.providers[p].count; }),
        backgroundColor: colour(3),
      },
    ]);
  }

  function floats(data) {
    const currencies = Array.from(new Set(data.floats.map(function (row) { return row.currency; }))).sort();
    return bars(data.floats.map(function (row) { return row.provider; }), currencies.map(function (currency, index) {
      return {
        label: currency,
        data: data.floats.map(function (row) {
          return row.currency === currency ? major(row.balance_minor, currency, data.exponents) : null;
        }),
        backgroundColor: colour(index + 4),
      };
    }));
  }

  const BUILDERS = { volume: volume, amount: amount, success: success, over_time: overTime, unknown: unknown, floats: floats };

  function draw() {
    const source = document.getElementById("dashboard-data");
    if (!source || typeof Chart === "undefined") {
      return;
    }
    const data = JSON.parse(source.textContent);
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      const spec = BUILDERS[canvas.dataset.chart](data, canvas.dataset.window, canvas);
      spec.options = Object.assign({ animation: false, responsive: true, maintainAspectRatio: false }, spec.options || {});
      new Chart(canvas, spec);
    });
    document.getElementById("dashboard").dataset.drawn = "true";
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
