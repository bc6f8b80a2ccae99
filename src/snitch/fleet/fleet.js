// The fleet page's enhancements; the page says everything without them. Each column header
// becomes a button that sorts the projects by that column (again: the other way), and a select
// shows one team's projects. Reads only the page's own data-* attributes and text.
"use strict";
(function () {
  const table = document.getElementById("matrix");
  if (!table) return;
  const body = table.tBodies[0];
  const headers = Array.from(table.tHead.rows[0].cells);
  const key = (row, column) => {
    const cell = row.cells[column];
    return cell.dataset.sort !== undefined ? cell.dataset.sort : cell.textContent;
  };
  const compare = (a, b) => {
    const numbers = a !== "" && b !== "" && !isNaN(a) && !isNaN(b);
    return numbers ? Number(a) - Number(b) : a.localeCompare(b);
  };
  headers.forEach((header, column) => {
    const button = document.createElement("button");
    button.type = "button";
    button.title = "sort by this column";
    while (header.firstChild) button.appendChild(header.firstChild);
    header.appendChild(button);
    button.addEventListener("click", () => {
      const ascending = header.getAttribute("aria-sort") !== "ascending";
      headers.forEach((other) => other.removeAttribute("aria-sort"));
      header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      const rows = Array.from(body.rows).map((row, index) => [row, index]);
      rows.sort(([a, i], [b, j]) => (ascending ? 1 : -1) * compare(key(a, column), key(b, column)) || i - j);
      rows.forEach(([row]) => body.appendChild(row));
    });
  });
  const filter = document.getElementById("team-filter");
  const count = document.getElementById("shown-count");
  const teams = Array.from(new Set(Array.from(body.rows, (row) => row.dataset.team))).sort();
  teams.forEach((team) => filter.add(new Option(team, team)));
  filter.addEventListener("change", () => {
    let shown = 0;
    Array.from(body.rows).forEach((row) => {
      row.hidden = filter.value !== "" && row.dataset.team !== filter.value;
      shown += row.hidden ? 0 : 1;
    });
    count.value = shown + " of " + body.rows.length + " projects";
  });
  document.getElementById("controls").hidden = false;
})();
