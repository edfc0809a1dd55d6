/* The impact preview as tables: per grid households and population before → after against the target
 * range, the buildings and open cases that change grid, and the workers affected. */

import {el, fill, number} from './plan_dom.js';
import {band} from './plan_map.js';

function change(before, after, target) {
  const cell = el('td', null, 'change');
  const from = el('span', number(before), 'before');
  const to = el('span', number(after), 'after');
  if (target) {
    if (before !== null && before !== undefined) from.classList.add(`band-${band(before, target)}`);
    if (after !== null && after !== undefined) to.classList.add(`band-${band(after, target)}`);
  }
  cell.append(from, el('span', ' → ', 'arrow'), to);
  if (typeof before === 'number' && typeof after === 'number' && after !== before) {
    const delta = after - before;
    cell.append(el('span', ` (${delta > 0 ? '+' : ''}${number(delta)})`, delta > 0 ? 'delta up' : 'delta down'));
  }
  return cell;
}

// Grid codes are 15 digits; inside one community the last three (the sequence) say which grid it is.
function shortCode(code, community) {
  if (!code) return '–';
  return community && code.startsWith(community) && code.length === community.length + 3 ? code.slice(-3) : code;
}

// Inside one community its name (and the province…street before it) says nothing: "辽宁省鞍山市…建国社区安乐巷11号1号楼"
// reads "安乐巷11号1号楼", "建国社区第一网格" reads "第一网格". The full text stays in the tooltip.
export function local(text, communityName) {
  if (!text || !communityName) return text ?? '';
  const at = text.lastIndexOf(communityName);
  const rest = at < 0 ? '' : text.slice(at + communityName.length).trim();
  return rest || text;
}

function gridCell(code, community, name = '', communityName = '') {
  const cell = el('td', shortCode(code, community), 'code');
  if (code) cell.title = name ? `${code} ${name}` : code;
  if (name) cell.append(el('span', local(name, communityName), 'grid-name'));
  return cell;
}

function emptyRow(columns, text) {
  const row = el('tr', null, 'empty-row');
  const cell = el('td', text);
  cell.colSpan = columns;
  row.append(cell);
  return row;
}

export function renderImpact(root, result, {target, text, opLabel, community, communityName, names}) {
  const impact = result.impact ?? {};
  root.querySelector('[data-field="op"]').textContent = opLabel ?? '';

  const notes = root.querySelector('#impact-notes');
  notes.replaceChildren();
  for (const [kind, items] of [['warning', result.warnings], ['repair', result.repairs]]) {
    for (const item of items ?? []) {
      const message = typeof item === 'string' ? item : (item.message ?? item.detail ?? JSON.stringify(item));
      notes.append(el('p', message, `note ${kind}`));
    }
  }

  const grids = root.querySelector('#impact-grids tbody');
  grids.replaceChildren();
  for (const row of impact.grids ?? []) {
    const tr = el('tr', null, `status-${row.status}`);
    tr.dataset.code = row.code;
    tr.append(gridCell(row.code, community, names?.get(row.code), communityName));
    const households = change(row.households_before, row.households_after, target);
    households.dataset.field = 'households';
    const population = change(row.population_before, row.population_after, null);
    population.dataset.field = 'population';
    tr.append(households, population);
    const state = el('td', text[`status_${row.status}`] ?? row.status, 'state');
    // A retired grid has no households to be out of range with.
    if (row.in_target_after === false && row.status !== 'retired') state.append(el('span', ` · ${text.outOfTarget}`, 'out'));
    tr.append(state);
    grids.append(tr);
  }
  if (!grids.children.length) grids.append(emptyRow(4, text.nothing));

  const buildings = root.querySelector('#impact-buildings tbody');
  buildings.replaceChildren();
  for (const moved of impact.buildings_moved ?? []) {
    const tr = el('tr');
    const name = el('td', local(moved.address, communityName) || moved.code, 'building');
    name.title = [moved.address, moved.code].filter(Boolean).join(' · ');
    tr.append(name, gridCell(moved.from, community), gridCell(moved.to, community));
    buildings.append(tr);
  }
  if (!buildings.children.length) buildings.append(emptyRow(3, text.nothing));
  root.querySelector('[data-count="buildings"]').textContent = `(${(impact.buildings_moved ?? []).length})`;

  const cases = root.querySelector('#impact-cases tbody');
  cases.replaceChildren();
  for (const moved of impact.cases_moved ?? []) {
    const tr = el('tr');
    const grids = el('td', `${shortCode(moved.from, community)} → ${shortCode(moved.to, community)}`, 'code');
    grids.title = `${moved.from ?? ''} → ${moved.to ?? ''}`;
    tr.append(
      el('td', moved.number ?? moved.id, 'code'),
      grids,
      el('td', `${moved.worker_from ?? '–'} → ${moved.worker_to ?? '–'}`),
    );
    cases.append(tr);
  }
  if (!cases.children.length) cases.append(emptyRow(3, text.nothing));
  root.querySelector('[data-count="cases"]').textContent = `(${(impact.cases_moved ?? []).length})`;

  const workers = root.querySelector('#impact-workers');
  workers.replaceChildren();
  for (const worker of impact.workers_affected ?? []) {
    const item = el('li', worker.name);
    const gridsText = (worker.grids ?? []).join('、');
    if (gridsText) item.append(el('span', gridsText, 'code grids'));
    workers.append(item);
  }
  if (!workers.children.length) workers.append(el('li', text.nothing, 'empty'));
  root.querySelector('[data-count="workers"]').textContent = `(${(impact.workers_affected ?? []).length})`;

  root.hidden = false;
}

export function targetText(template, target) {
  return target ? fill(template, {min: number(target.min_households), max: number(target.max_households)}) : '';
}
