// The charts are drawn as SVG before this runs; it only adds to them: a tooltip with a point's or a
// bar's figures (its <title>, which is read without this script too), legend entries that hide and
// show their series, and the log/linear switch of a log value axis. Nothing is fetched.
(function () {
  "use strict";
  var NEAR = 24; // how close, in chart units, the pointer must be for a point's figures to show
  var tip, shown = null;

  function tipBox() {
    if (!tip) {
      tip = document.createElement("div");
      tip.id = "chart-tip";
      tip.setAttribute("role", "tooltip");
      tip.hidden = true;
      document.body.appendChild(tip);
    }
    return tip;
  }

  // A <title> becomes its element's accessible name and the tooltip's text: the browser's own
  // tooltip would show it a second time.
  function adoptTitles(svg) {
    Array.prototype.forEach.call(svg.querySelectorAll("title"), function (title) {
      var owner = title.parentNode;
      owner.setAttribute("aria-label", title.textContent);
      owner.removeChild(title);
    });
  }

  function show(el, event) {
    var box = tipBox(), lines = (el.getAttribute("aria-label") || "").split("\n");
    if (shown !== el) {
      if (shown) { shown.classList.remove("hot"); }
      box.textContent = "";
      lines.forEach(function (line, i) {
        var row = document.createElement(i === 0 ? "b" : "div");
        row.textContent = line;
        box.appendChild(row);
      });
      el.classList.add("hot");
      shown = el;
    }
    box.hidden = false;
    var x = event.pageX + 14, y = event.pageY + 14;
    if (x + box.offsetWidth > window.scrollX + document.documentElement.clientWidth) {
      x = Math.max(window.scrollX, event.pageX - 14 - box.offsetWidth);
    }
    box.style.left = x + "px";
    box.style.top = y + "px";
  }

  function hide() {
    if (shown) { shown.classList.remove("hot"); shown = null; }
    if (tip) { tip.hidden = true; }
  }

  // The point nearest the pointer among the series shown, within NEAR; a bar under it.
  function nearest(svg, event) {
    var bar = event.target.closest ? event.target.closest(".bar") : null;
    if (bar) { return bar; }
    var ctm = svg.getScreenCTM();
    if (!ctm) { return null; }
    var at = new DOMPoint(event.clientX, event.clientY).matrixTransform(ctm.inverse());
    var best = null, bestDistance = NEAR;
    Array.prototype.forEach.call(svg.querySelectorAll(".pt"), function (pt) {
      if (pt.closest(".off")) { return; }
      var d = Math.hypot(pt.cx.baseVal.value - at.x, pt.cy.baseVal.value - at.y);
      if (d < bestDistance) { best = pt; bestDistance = d; }
    });
    return best;
  }

  function toggleSeries(svg, key) {
    var off = !key.classList.contains("off");
    key.classList.toggle("off", off);
    key.setAttribute("aria-pressed", String(!off));
    var name = key.getAttribute("data-key");
    Array.prototype.forEach.call(svg.querySelectorAll(".plot [data-series]"), function (el) {
      if (el.getAttribute("data-series") === name) { el.classList.toggle("off", off); }
    });
    hide();
  }

  // Every position on the value axis holds its place on the other scale in data-swap: trade them.
  function swapScale(svg) {
    Array.prototype.forEach.call(svg.querySelectorAll("[data-swap]"), function (el) {
      var back = el.getAttribute("data-swap").split(";").map(function (pair) {
        var i = pair.indexOf("="), name = pair.slice(0, i), was = name + "=" + el.getAttribute(name);
        el.setAttribute(name, pair.slice(i + 1));
        return was;
      });
      el.setAttribute("data-swap", back.join(";"));
    });
    var linear = svg.getAttribute("data-scale") === "log";
    svg.setAttribute("data-scale", linear ? "linear" : "log");
    hide();
    return linear;
  }

  function setUp(svg) {
    adoptTitles(svg);
    svg.addEventListener("mousemove", function (event) {
      var el = nearest(svg, event);
      if (el) { show(el, event); } else { hide(); }
    });
    svg.addEventListener("mouseleave", hide);
    Array.prototype.forEach.call(svg.querySelectorAll(".key"), function (key) {
      key.addEventListener("click", function () { toggleSeries(svg, key); });
      key.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); toggleSeries(svg, key); }
      });
    });
    var button = document.querySelector('.scale-toggle[data-chart="' + svg.getAttribute("data-chart") + '"]');
    if (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var linear = swapScale(svg);
        button.setAttribute("aria-pressed", String(linear));
        // The button says the axis's state, not the action: what the reader sees now.
        button.textContent = linear ? "value axis: linear scale" : "value axis: log scale";
      });
    }
    return Number(svg.getAttribute("data-points")) > 0;
  }

  function start() {
    var svgs = Array.prototype.slice.call(document.querySelectorAll("svg.chart-svg"));
    var drawn = svgs.filter(setUp).length;
    document.body.setAttribute("data-charts-ready", String(drawn));
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
  // Closed sections would print empty: open them all first.
  window.addEventListener("beforeprint", function () {
    Array.prototype.forEach.call(document.querySelectorAll("details"), function (d) { d.open = true; });
  });
})();
