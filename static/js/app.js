// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // A filter the server refuses (400) answers with its errors: show them, and clear the old
  // results, instead of keeping rows that no longer match the form.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr.status === 400) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // The zone picker applies on change; its button is for pages without this script.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form.zone-picker").forEach(function (form) {
      form.querySelector("button[type=submit]").hidden = true;
      form.querySelector("select").addEventListener("change", function () { form.requestSubmit(); });
    });
  });

  // On a phone the filters start folded into their "Filters (n)" control.
  document.addEventListener("DOMContentLoaded", function () {
    if (window.matchMedia("(max-width: 640px)").matches) {
      document.querySelectorAll("details.filters-fold").forEach(function (fold) { fold.open = false; });
    }
  });

  function drawCharts(root) {
    if (!window.Plotly) { return; }
    root.querySelectorAll(".chart[data-figure]").forEach(function (element) {
      var source = document.getElementById(element.dataset.figure);
      if (!source || element.dataset.drawn) { return; }
      var figure = JSON.parse(JSON.parse(source.textContent));
      window.Plotly.newPlot(element, figure.data, figure.layout, {responsive: true, displaylogo: false, displayModeBar: false});
      element.dataset.drawn = "1";
      element.on("plotly_click", function (event) {
        var point = event.points && event.points[0];
        var link = point && point.data && point.data.meta;
        if (typeof link === "string" && link.charAt(0) === "/") {
          window.location.assign(link.split("{x}").join(encodeURIComponent(String(point.x))));
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { drawCharts(document); });
  document.addEventListener("htmx:afterSwap", function (event) { drawCharts(event.target); });
})();
