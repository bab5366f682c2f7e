// trailscope report: sortable, paged and filterable tables. No network, no library.
(function () {
  "use strict";
  function cellValue(row, i) {
    var cell = row.cells[i];
    var text = cell ? cell.textContent.trim() : "";
    var number = text.replace(/,/g, "");
    return number !== "" && !isNaN(number) ? Number(number) : text.toLowerCase();
  }
  function page(table) {
    var size = Number(table.dataset.page || 0);
    var body = table.tBodies[0];
    if (!size || !body) return;
    var shown = 0;
    var rows = Array.prototype.slice.call(body.rows);
    var visible = rows.filter(function (r) { return !r.classList.contains("filtered-out"); });
    var all = table.dataset.all === "1";
    visible.forEach(function (r) {
      shown += 1;
      r.classList.toggle("paged-out", !all && shown > size);
    });
    var button = table.nextElementSibling;
    if (!button || !button.classList.contains("more")) {
      button = document.createElement("button");
      button.className = "more";
      button.type = "button";
      button.addEventListener("click", function () {
        table.dataset.all = table.dataset.all === "1" ? "0" : "1";
        page(table);
      });
      table.parentNode.insertBefore(button, table.nextSibling);
    }
    button.hidden = visible.length <= size;
    button.textContent = all ? "Show the first " + size : "Show all " + visible.length + " rows";
  }
  function sortable(table) {
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    var first = table.tBodies[0] && table.tBodies[0].rows[0];
    Array.prototype.forEach.call(heads, function (th, i) {
      if (first && first.cells[i] && first.cells[i].classList.contains("n")) th.classList.add("n");
    });
    Array.prototype.forEach.call(heads, function (th, i) {
      th.addEventListener("click", function () {
        var dir = th.dataset.dir === "asc" ? "desc" : "asc";
        Array.prototype.forEach.call(heads, function (h) { delete h.dataset.dir; });
        th.dataset.dir = dir;
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = cellValue(a, i), y = cellValue(b, i);
          var c = x < y ? -1 : x > y ? 1 : 0;
          return dir === "asc" ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
        page(table);
      });
    });
    page(table);
  }
  function filter(table, selects) {
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    var shown = 0;
    rows.forEach(function (r) {
      var keep = selects.every(function (s) { return !s.value || r.dataset[s.dataset.filter] === s.value; });
      r.classList.toggle("filtered-out", !keep);
      if (keep) shown += 1;
    });
    var count = document.querySelector('[data-count-of="' + table.id + '"]');
    if (count) count.textContent = shown + " of " + rows.length + " findings";
    page(table);
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), sortable);
  var findings = document.getElementById("findings-table");
  var selects = Array.prototype.slice.call(document.querySelectorAll("select[data-filter]"));
  if (findings) {
    selects.forEach(function (s) { s.addEventListener("change", function () { filter(findings, selects); }); });
    filter(findings, selects);
    Array.prototype.forEach.call(document.querySelectorAll("[data-filter-account]"), function (a) {
      a.addEventListener("click", function () {
        selects.forEach(function (s) { s.value = s.dataset.filter === "account" ? a.dataset.filterAccount : ""; });
        filter(findings, selects);
      });
    });
  }
  window.addEventListener("beforeprint", function () {
    Array.prototype.forEach.call(document.querySelectorAll("details"), function (d) { d.open = true; });
  });
  document.documentElement.dataset.ready = "1";
})();
