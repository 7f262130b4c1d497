// The dashboards' small script: charts from json_script data, and one click per action.
(function () {
  "use strict";

  // A <canvas data-chart="ID"> draws the chart whose spec is in <script type="application/json" id="ID">:
  // {"type": "bar", "labels": [...], "datasets": [{"label": ..., "data": [...]}], "links": [...]}.
  // A click on a bar or slice follows links[index] (the claims behind it).
  function drawCharts(root) {
    if (typeof Chart === "undefined") return;
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (canvas.dataset.drawn) return;
      var source = document.getElementById(canvas.dataset.chart);
      if (!source) return;
      var spec = JSON.parse(source.textContent);
      canvas.dataset.drawn = "1";
      new Chart(canvas, {
        type: spec.type || "bar",
        data: { labels: spec.labels, datasets: spec.datasets },
        options: {
          responsive: true, maintainAspectRatio: false, animation: false,
          plugins: { legend: { display: (spec.datasets || []).length > 1 || spec.type === "doughnut" } },
          onClick: function (event, elements) {
            if (spec.links && elements.length) {
              var link = spec.links[elements[0].index];
              if (link) window.location.href = link;
            }
          },
          onHover: function (event, elements) {
            event.native.target.style.cursor = spec.links && elements.length ? "pointer" : "default";
          }
        }
      });
    });
  }

  // A form that moves money or state is sent once: its button is disabled on the first submit (the
  // server is idempotent as well; this only spares the user a second request).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("form[data-once]")) return;
    if (form.dataset.sent) { event.preventDefault(); return; }
    form.dataset.sent = "1";
    form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
  });

  document.addEventListener("DOMContentLoaded", function () { drawCharts(document); });
  document.addEventListener("htmx:afterSettle", function (event) { drawCharts(event.target); });
})();
