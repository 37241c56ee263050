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

  // The log's side panel: a row opens its detail there (the row's "Details" link does the
  // request and pushes ?event=<id>); Escape or "Close" closes it and drops the id from the URL.
  function panel() { return document.getElementById("panel"); }

  function closePanel(updateUrl) {
    var element = panel();
    if (!element || element.hidden) { return; }
    var close = element.querySelector("a.panel-close");
    element.hidden = true;
    element.textContent = "";
    document.querySelectorAll("table.events tr[aria-current]").forEach(function (row) {
      row.removeAttribute("aria-current");
    });
    if (updateUrl && close) { history.replaceState(history.state, "", close.getAttribute("href")); }
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    var element = panel();
    if (element && event.detail.target === element) {
      element.hidden = false;
      element.scrollTop = 0;
      var link = event.detail.requestConfig && event.detail.requestConfig.elt;
      var row = link && link.closest && link.closest("tr");
      document.querySelectorAll("table.events tr[aria-current]").forEach(function (other) {
        other.removeAttribute("aria-current");
      });
      if (row) { row.setAttribute("aria-current", "true"); }
    }
  });

  // A new filter or page of rows is another list: the open event no longer belongs to it.
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.target && event.detail.target.id === "results") { closePanel(false); }
  });

  document.addEventListener("click", function (event) {
    var close = event.target.closest && event.target.closest("a.panel-close");
    if (close && panel() && panel().contains(close) && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      closePanel(true);
      return;
    }
    // A click anywhere on a row opens it, unless it was on a link or while selecting text.
    var row = event.target.closest && event.target.closest("table.events tbody tr");
    if (!row || event.target.closest("a, button, input, select, label")) { return; }
    if (String(window.getSelection ? window.getSelection() : "")) { return; }
    var open = row.querySelector("a.open-detail");
    if (open) { highlight(row); open.click(); }
  });

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("table.events tbody tr"))
      .filter(function (row) { return row.querySelector("a.open-detail"); });
  }

  function highlight(row) {
    document.querySelectorAll("table.events tr.current").forEach(function (other) {
      other.classList.remove("current");
    });
    row.classList.add("current");
    var link = row.querySelector("a.open-detail");
    if (link) { link.focus({preventScroll: true}); }
    row.scrollIntoView({block: "nearest"});
  }

  // Keys: j/k or the arrow keys move the highlighted row, Enter opens it (the focused
  // "Details" link), Escape closes the panel. Never while typing in a field.
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) { return; }
    if (event.key === "Escape") { closePanel(true); return; }
    var field = event.target.closest && event.target.closest("input, select, textarea, [contenteditable]");
    if (field) { return; }
    var step = {j: 1, ArrowDown: 1, k: -1, ArrowUp: -1}[event.key];
    var list = rows();
    if (!step || !list.length) { return; }
    var current = list.indexOf(document.querySelector("table.events tbody tr.current"));
    if (current === -1 && event.key.indexOf("Arrow") === 0) { return; }  // plain page scrolling
    event.preventDefault();
    highlight(list[Math.max(0, Math.min(list.length - 1, current + step))]);
  });

  // On a phone a chart's title wraps instead of running off the card, and axis labels take
  // the room they need rather than a fixed margin sized for a laptop.
  function fitNarrow(layout, width) {
    if (!width || width >= 480) { return; }
    var title = layout.title && layout.title.text;
    var fits = Math.floor(width / 8.5);
    if (title && title.length > fits && title.indexOf("<br>") === -1) {
      var cut = title.lastIndexOf(" ", fits);
      if (cut > 0) { layout.title.text = title.slice(0, cut) + "<br>" + title.slice(cut + 1); }
      layout.margin = Object.assign({}, layout.margin, {t: 64});
    }
    layout.title = Object.assign({}, layout.title, {font: {size: 14}});
    layout.margin = Object.assign({}, layout.margin, {l: 40, r: 12});
    layout.yaxis = Object.assign({}, layout.yaxis, {automargin: true});
    layout.xaxis = Object.assign({}, layout.xaxis, {automargin: true});
  }

  function drawCharts(root) {
    if (!window.Plotly) { return; }
    root.querySelectorAll(".chart[data-figure]").forEach(function (element) {
      var source = document.getElementById(element.dataset.figure);
      if (!source || element.dataset.drawn) { return; }
      var figure = JSON.parse(JSON.parse(source.textContent));
      fitNarrow(figure.layout, element.clientWidth);
      window.Plotly.newPlot(element, figure.data, figure.layout, {responsive: true, displaylogo: false, displayModeBar: false});
      element.dataset.drawn = "1";
      element.on("plotly_click", function (event) {
        var point = event.points && event.points[0];
        var link = point && point.data && point.data.meta;
        if (typeof link === "string" && link.charAt(0) === "/") {
          var end = point.customdata !== undefined ? point.customdata : point.x;
          window.location.assign(link.split("{x}").join(encodeURIComponent(String(point.x)))
            .split("{end}").join(encodeURIComponent(String(end))));
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { drawCharts(document); });
  document.addEventListener("htmx:afterSwap", function (event) { drawCharts(event.target); });
})();
