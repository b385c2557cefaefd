// Labels every table cell with its column's header text (data-label), so that on a phone herald.css can
// turn each row into a card whose cells say what they are. Generic on purpose: any table with a <thead>
// gets it, including tables that arrive later (the form's live preview, a page refreshing itself).
"use strict";
(() => {
  const labelTable = (table) => {
    const headers = [];
    for (const th of table.querySelectorAll(":scope > thead > tr:last-child > th")) {
      for (let i = 0; i < th.colSpan; i++) headers.push(th.textContent.trim());
    }
    if (!headers.length) return;
    for (const row of table.querySelectorAll(":scope > tbody > tr")) {
      let column = 0;
      for (const cell of row.cells) {
        // A cell the template labelled itself keeps its own label.
        if (!cell.hasAttribute("data-label") && headers[column]) cell.dataset.label = headers[column];
        column += cell.colSpan;
      }
    }
    table.dataset.cards = "";  // herald.css shows rows as cards only where the labels are in place
  };
  const labelAll = () => document.querySelectorAll("table").forEach(labelTable);
  labelAll();
  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; labelAll(); });
  }).observe(document.body, { childList: true, subtree: true });
})();
