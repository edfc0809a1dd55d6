/* The community's boundary versions, newest first, each but the current one restorable. */

import {el, fill, timeElement} from './plan_dom.js';

export function renderHistory(list, versions, {text, onRestore}) {
  list.replaceChildren();
  const rows = [...(versions ?? [])].sort((a, b) => b.version - a.version);
  for (const row of rows) {
    const item = el('li', null, row.is_current ? 'version current' : 'version');
    item.dataset.version = row.version;
    const head = el('div', null, 'version-head');
    head.append(el('strong', fill(text.version, {version: row.version})));
    if (row.is_current) head.append(el('span', text.current, 'badge'));
    head.append(timeElement(row.effective_from));
    item.append(head);
    const meta = el('p', null, 'meta');
    const by = row.created_by && typeof row.created_by === 'object' ? row.created_by.name : row.created_by;
    if (by) meta.append(el('span', by, 'by'));
    meta.append(el('span', fill(text.gridsCount, {n: (row.grids ?? []).length}), 'grids'));
    item.append(meta);
    if (row.reason) item.append(el('p', row.reason, 'reason'));
    if (row.summary) item.append(el('p', row.summary, 'summary'));
    if (!row.is_current) {
      const button = el('button', text.restore, 'link restore');
      button.type = 'button';
      button.addEventListener('click', () => onRestore(row));
      item.append(button);
    }
    list.append(item);
  }
  if (!rows.length) list.append(el('li', text.noHistory, 'empty'));
}
