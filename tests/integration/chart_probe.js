// Installed in the report by its browser test: where a chart's elements are on screen, and what the
// chart shows, as a reader sees it (hidden elements and empty shapes do not count).
window.__probe = {
  svg: function (id) { return document.querySelector('svg.chart-svg[data-chart="' + id + '"]'); },
  shown: function (el) {
    if (getComputedStyle(el).display === "none" || el.closest(".off, [display='none']")) { return false; }
    var box = el.getBBox();
    return box.width > 0 || box.height > 0;
  },
  centre: function (el) {
    el.scrollIntoView({ block: "center" });
    var box = el.getBoundingClientRect();
    return [box.x + box.width / 2, box.y + box.height / 2];
  },
  // Per legend entry: how many of its series' marks (lines, points, bars, rings) are drawn.
  series: function (id) {
    var svg = this.svg(id), probe = this;
    return Array.prototype.map.call(svg.querySelectorAll(".key"), function (key) {
      var name = key.getAttribute("data-key"), drawn = 0;
      svg.querySelectorAll(".plot [data-series]").forEach(function (group) {
        if (group.getAttribute("data-series") !== name) { return; }
        var marks = group.matches("path, rect, circle") ? [group] : Array.from(group.querySelectorAll("path, rect, circle"));
        drawn += marks.filter(function (mark) { return probe.shown(mark); }).length;
      });
      return { key: name, label: key.textContent.trim(), drawn: drawn, pressed: key.getAttribute("aria-pressed") };
    });
  },
  mark: function (id, index) { return this.svg(id).querySelectorAll(".plot .pt, .plot .bar")[index]; },
  tip: function () {
    var tip = document.getElementById("chart-tip");
    if (!tip || tip.hidden || tip.offsetWidth === 0) { return null; }
    return Array.from(tip.children, function (line) { return line.textContent; });
  },
  keyText: function (id, label) {
    var key = Array.from(this.svg(id).querySelectorAll(".key")).find(function (k) { return k.textContent.trim() === label; });
    return key.querySelector("text");
  },
  visibleText: function (id) {
    var probe = this;
    return Array.from(this.svg(id).querySelectorAll("text"))
      .filter(function (text) { return probe.shown(text); })
      .map(function (text) { return text.textContent; });
  },
  // The charts whose log toggle shows, in page order ("" for one still hidden).
  toggles: function () {
    return Array.from(document.querySelectorAll(".scale-toggle"), function (b) { return b.hidden ? "" : b.getAttribute("data-chart"); });
  },
};
true;
