/* magnetscreen report: sortable tables, no dependencies, no network.
 * A click (or Enter/Space) on a header of the last header row sorts the table by that column; a second
 * click reverses the order. Cells sort by their data-sort attribute: numerically when both values are
 * numbers, else as text. Missing numbers ("nan") always sort last; ties keep the original row order. */
(function () {
  "use strict";

  function sortKey(cell) {
    var raw = cell ? cell.getAttribute("data-sort") : "";
    if (raw === null) { raw = cell.textContent; }
    var trimmed = raw.trim();
    if (/^(nan|NaN)$/.test(trimmed)) { return { missing: true, num: NaN, text: "" }; }
    var num = Number(trimmed);
    return { missing: false, num: trimmed !== "" && isFinite(num) ? num : NaN, text: trimmed.toLowerCase() };
  }

  function compare(a, b) {
    if (a.missing || b.missing) { return a.missing === b.missing ? 0 : (a.missing ? 1 : -1); }
    if (!isNaN(a.num) && !isNaN(b.num)) { return a.num - b.num; }
    return a.text < b.text ? -1 : (a.text > b.text ? 1 : 0);
  }

  function sortTable(table, index, header) {
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    var headers = header.parentNode.cells;
    for (var h = 0; h < headers.length; h++) { headers[h].removeAttribute("aria-sort"); }
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows).map(function (row) {
      return { row: row, key: sortKey(row.cells[index]), order: Number(row.getAttribute("data-row")) };
    });
    rows.sort(function (x, y) {
      var c = compare(x.key, y.key);
      if (c !== 0 && !(x.key.missing || y.key.missing)) { c = ascending ? c : -c; }
      return c !== 0 ? c : x.order - y.order;
    });
    rows.forEach(function (item) { body.appendChild(item.row); });
  }

  function init() {
    var tables = document.querySelectorAll("table.sortable");
    Array.prototype.forEach.call(tables, function (table) {
      var head = table.tHead;
      if (!head || !head.rows.length || !table.tBodies.length) { return; }
      var cells = head.rows[head.rows.length - 1].cells;
      Array.prototype.forEach.call(cells, function (header, index) {
        header.tabIndex = 0;
        header.classList.add("sort-key");
        header.addEventListener("click", function () { sortTable(table, index, header); });
        header.addEventListener("keydown", function (event) {
          if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sortTable(table, index, header); }
        });
      });
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
}());
