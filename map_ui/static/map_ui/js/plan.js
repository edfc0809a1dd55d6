/* The planner's grid editor (/plan/): pick a community, edit its grids with Geoman (reshape, redraw,
 * split, merge, create, auto-partition), preview every edit's impact through the planning API, then commit
 * it with a reason, or restore an earlier version. The server keeps the tiling; this page only proposes.
 * Configuration and translated text come from data- attributes on #plan-map; data reaches the DOM only
 * through textContent. */
/* global L */

import {PlanApi, readErrors} from './plan_api.js';
import {askReason as askReasonIn, showConflict as showConflictIn} from './plan_dialogs.js';
import {el, fill, number} from './plan_dom.js';
import {renderHistory} from './plan_history.js';
import {renderImpact, targetText} from './plan_impact.js';
import {PlanMap} from './plan_map.js';

const mapEl = document.getElementById('plan-map');
const cfg = mapEl.dataset;
const $ = (selector) => document.querySelector(selector);

const text = {
  households: cfg.textHouseholds,
  noWorker: cfg.textNoWorker,
  openCases: cfg.textOpenCases,
  spot: cfg.textSpot,
  nothing: cfg.textNothingMoves,
  outOfTarget: cfg.textOutOfTarget,
  status_changed: cfg.textStatusChanged,
  status_new: cfg.textStatusNew,
  status_retired: cfg.textStatusRetired,
  version: cfg.textVersion,
  current: cfg.textCurrent,
  restore: cfg.textRestore,
  noHistory: cfg.textNoHistory,
  gridsCount: cfg.textGridsCount,
};
const OP_LABELS = {
  reshape: cfg.textOpReshape, redraw: cfg.textOpReshape, split: cfg.textOpSplit, merge: cfg.textOpMerge,
  create: cfg.textOpCreate, partition: cfg.textOpPartition,
};
const HINTS = {
  reshape: cfg.textHintReshape, redraw: cfg.textHintRedraw, split: cfg.textHintSplit, merge: cfg.textHintMerge,
  create: cfg.textHintCreate, partition: cfg.textHintPartition,
};
const FIELD_LABELS = JSON.parse(cfg.fieldLabels || '{}');
const NEEDS_GRID = new Set(['reshape', 'redraw', 'split']);
const SNAP = {snappable: true, snapDistance: 18};

const api = new PlanApi({root: cfg.planApiRoot, csrfToken: cfg.csrfToken});
const planMap = new PlanMap(mapEl, text);
const map = planMap.map;
map.pm.setLang(document.documentElement.lang.startsWith('zh') ? 'zh' : 'en');
map.pm.setGlobalOptions({
  ...SNAP,
  // The server repairs a self-intersecting outline when it can, and otherwise marks the spot: let it say.
  allowSelfIntersection: true,
  pathOptions: {color: '#c2410c', weight: 3, fillColor: '#fb923c', fillOpacity: 0.2},
  templineStyle: {color: '#c2410c'},
  hintlineStyle: {color: '#c2410c', dashArray: '5 5'},
});

const state = {
  code: null,
  plan: null,
  tool: null,
  grid: null,
  merge: [],
  drawn: null,
  editing: null,
  pending: null,
  busy: false,
};

// --- status, hints, errors --------------------------------------------------------------------------

function setStatus(message, isError = false) {
  const status = $('#plan-status');
  status.textContent = message ?? '';
  status.classList.toggle('error', isError);
}

function setHint(message) {
  $('#tool-hint').textContent = message ?? '';
}

function clearError() {
  const box = $('#plan-error');
  box.hidden = true;
  box.querySelector('.reasons').replaceChildren();
}

function showError(response) {
  const box = $('#plan-error');
  const list = box.querySelector('.reasons');
  list.replaceChildren();
  const {reasons, points} = readErrors(response.body);
  box.querySelector('.title').textContent = cfg.textError;
  for (const {field, message} of reasons) {
    const item = el('li');
    const name = field.split('.').filter((part) => !/^\d+$/.test(part)).pop();
    if (name && !['detail', 'non_field_errors'].includes(name)) {
      item.append(el('span', FIELD_LABELS[name] ?? name, 'field'));
    }
    item.append(el('span', message, 'message'));
    list.append(item);
  }
  if (!reasons.length) list.append(el('li', fill(cfg.textRequestFailed, {status: response.status})));
  if (points.length) {
    list.append(el('li', cfg.textErrorSpot, 'spot-note'));
    planMap.markSpots(points);
  }
  box.hidden = false;
  setStatus('');
}

// --- the community picker ---------------------------------------------------------------------------

const search = $('#community-search');
const picker = $('#community-select');
let communities = [];

function inPlannerScope(code) {
  const prefixes = JSON.parse(cfg.plannerPrefixes || '[]');
  return prefixes.some((prefix) => code.startsWith(prefix));
}

function listCommunities() {
  const needle = search.value.trim().toLowerCase();
  picker.replaceChildren();
  for (const community of communities) {
    if (needle && !community.name.toLowerCase().includes(needle) && !community.code.includes(needle)) continue;
    const option = el('option', `${community.name} · ${community.code}`);
    option.value = community.code;
    option.selected = community.code === state.code;
    picker.append(option);
  }
  if (!picker.options.length) {
    const option = el('option', cfg.textNoCommunities);
    option.disabled = true;
    picker.append(option);
  }
}

async function loadCommunities() {
  const response = await api.request(`${cfg.communitiesUrl}?simplify=0.0002`);
  if (!response.ok) {
    setStatus(cfg.textFailed, true);
    return;
  }
  const features = response.body.features.filter((feature) => inPlannerScope(feature.properties.code));
  communities = features
    .map((feature) => ({code: feature.properties.code, name: feature.properties.name ?? ''}))
    .sort((a, b) => a.code.localeCompare(b.code));
  planMap.showOverview(features);
  listCommunities();
}

search.addEventListener('input', listCommunities);
search.addEventListener('keydown', (event) => {
  if (event.key !== 'Enter') return;
  event.preventDefault();
  const first = [...picker.options].find((option) => !option.disabled);
  if (first) openCommunity(first.value);
});
picker.addEventListener('change', () => {
  if (picker.value) openCommunity(picker.value);
});

// --- loading a community ----------------------------------------------------------------------------

let loadRequest = null;

async function openCommunity(code) {
  if (state.code !== code) history.replaceState(null, '', `#${code}`);
  await loadCommunity(code, {fit: state.code !== code});
}

async function loadCommunity(code, {fit = true} = {}) {
  resetTool();
  state.code = code;
  state.plan = null;
  state.grid = null;
  mapEl.dataset.state = 'loading';
  loadRequest?.abort();
  const request = new AbortController();
  loadRequest = request;
  setStatus(cfg.textLoading);
  let response;
  try {
    response = await api.plan(code, request.signal);
  } catch (error) {
    if (error.name === 'AbortError') return;
    response = {ok: false, status: 0, body: null};
  }
  if (!response.ok) {
    mapEl.dataset.state = 'failed';
    if (response.status === 400 || response.status === 403 || response.status === 404) showError(response);
    setStatus(cfg.textFailed, true);
    return;
  }
  const plan = response.body;
  state.plan = plan;
  planMap.show(plan);
  planMap.markCurrent(code);
  if (fit) planMap.fit();
  showCommunityCard(plan);
  showGridCard(null);
  updateButtons();
  setHint(cfg.textHintIdle);
  setStatus(fill(cfg.textLoaded, {
    name: plan.community.name, grids: plan.grids.features.length, buildings: plan.buildings.features.length,
    version: plan.version,
  }));
  mapEl.dataset.version = plan.version;
  mapEl.dataset.state = 'ready';
  listCommunities();
  loadHistory();
}

function showCommunityCard(plan) {
  const card = $('#community-card');
  card.querySelector('[data-field="name"]').textContent = plan.community.name;
  card.querySelector('[data-field="code"]').textContent = plan.community.code;
  card.querySelector('[data-field="version"]').textContent = fill(cfg.textVersion, {version: plan.version});
  card.querySelector('[data-field="target"]').textContent = targetText(cfg.textTarget, plan.target);
  card.hidden = false;
}

function gridProperties(code) {
  return state.plan?.grids.features.find((feature) => feature.properties.code === code)?.properties ?? null;
}

function showGridCard(code) {
  const card = $('#grid-card');
  const properties = code ? gridProperties(code) : null;
  if (!properties) {
    card.hidden = true;
    return;
  }
  card.querySelector('[data-field="name"]').textContent = properties.name ?? '';
  card.querySelector('[data-field="code"]').textContent = properties.code;
  card.querySelector('[data-field="households"]').textContent = number(properties.households);
  card.querySelector('[data-field="population"]').textContent = number(properties.population);
  card.querySelector('[data-field="open_cases"]').textContent = number(properties.open_cases ?? 0);
  const workers = card.querySelector('[data-field="workers"]');
  workers.replaceChildren();
  for (const worker of properties.workers ?? []) workers.append(el('li', worker.name));
  if (!workers.children.length) workers.append(el('li', cfg.textNoWorker));
  card.hidden = false;
}

// --- history ----------------------------------------------------------------------------------------

async function loadHistory() {
  const code = state.code;
  const response = await api.versions(code);
  if (code !== state.code) return;
  const list = $('#history-list');
  $('#history').hidden = false;
  if (!response.ok) {
    list.replaceChildren(el('li', cfg.textFailed, 'empty'));
    return;
  }
  renderHistory(list, response.body, {text, onRestore: restoreVersion});
}

// A restore is previewed like any edit (who and what would move back), then committed with a reason.
async function restoreVersion(row) {
  if (state.busy || !state.plan) return;
  resetTool();
  clearError();
  state.tool = 'restore';
  setHint('');
  await preview({op: 'restore', to_version: row.version}, fill(cfg.textRestoreTitle, {version: row.version}));
}

// --- tools --------------------------------------------------------------------------------------------

const toolButtons = [...document.querySelectorAll('.tool[data-tool]')];
const previewButton = $('#preview-button');
const cancelButton = $('#cancel-button');

function updateButtons() {
  for (const button of toolButtons) {
    button.disabled = !state.plan || state.busy || Boolean(state.pending);
    button.setAttribute('aria-pressed', String(button.dataset.tool === state.tool));
  }
  previewButton.disabled = state.busy || !canPreview();
  cancelButton.disabled = state.busy || (!state.tool && !state.pending);
  // While a tool draws or a preview is up, a click on a neighbouring community is part of the edit.
  planMap.overviewClickable(!state.tool && !state.pending && !state.busy);
}

function canPreview() {
  if (state.pending || !state.plan) return false;
  switch (state.tool) {
    case 'reshape': return Boolean(state.editing);
    case 'redraw': case 'split': case 'create': return Boolean(state.drawn);
    case 'merge': return state.merge.length >= 2;
    case 'partition': return Number($('#partition-value').value) > 0;
    default: return false;
  }
}

function selectGrid(code) {
  state.grid = code;
  planMap.setSelected(code ? [code] : []);
  showGridCard(code);
}

planMap.onCommunityClick = (code) => openCommunity(code);
planMap.onGridClick = (code) => {
  if (state.pending || state.busy) return;
  if (state.tool === 'merge') {
    state.merge = state.merge.includes(code) ? state.merge.filter((c) => c !== code) : [...state.merge, code];
    planMap.setSelected(state.merge);
    setHint(`${HINTS.merge} ${fill(cfg.textMergeCount, {n: state.merge.length})}`);
    updateButtons();
    return;
  }
  // While a tool draws or edits, clicks belong to Geoman.
  if (state.tool) return;
  selectGrid(code);
};

function startTool(tool) {
  if (!state.plan || state.busy || state.pending) return;
  const grid = state.grid;
  resetTool();
  clearError();
  if (NEEDS_GRID.has(tool) && !grid) {
    setHint(cfg.textHintPickGrid);
    updateButtons();
    return;
  }
  state.tool = tool;
  if (grid) selectGrid(grid);
  setHint(HINTS[tool]);
  if (tool === 'reshape') {
    const layer = planMap.gridLayer(grid);
    layer.closeTooltip();
    layer.pm.enable({...SNAP, allowSelfIntersection: true, draggable: false});
    state.editing = layer;
    showGiveTo(grid);
  } else if (tool === 'redraw' || tool === 'create') {
    map.pm.enableDraw('Polygon', {...SNAP, allowSelfIntersection: true});
    if (tool === 'redraw') showGiveTo(grid);
  } else if (tool === 'split') {
    map.pm.enableDraw('Line', {...SNAP});
  } else if (tool === 'merge') {
    // The grid already selected is the first of those to merge.
    state.merge = grid ? [grid] : [];
    planMap.setSelected(state.merge);
    setHint(`${HINTS.merge} ${fill(cfg.textMergeCount, {n: state.merge.length})}`);
  } else if (tool === 'partition') {
    suggestPartition();
    $('#partition-options').hidden = false;
  }
  mapEl.dataset.tool = tool;
  // Leaflet gives a click on a grid to the grid alone; while drawing, the clicks must reach the map (Geoman).
  mapEl.classList.toggle('drawing', ['redraw', 'create', 'split'].includes(tool));
  updateButtons();
}

function showGiveTo(grid) {
  const select = $('#give-to');
  select.replaceChildren(el('option', cfg.textAutoGive));
  select.options[0].value = '';
  for (const code of planMap.gridCodes()) {
    if (code === grid) continue;
    const properties = gridProperties(code);
    const option = el('option', `${properties?.name ?? ''} · ${code}`);
    option.value = code;
    select.append(option);
  }
  $('#give-to-options').hidden = false;
}

// Leaves the current tool: editing handles off, drawings gone, the grid's outline as the server has it.
function resetTool() {
  map.pm.disableDraw();
  if (state.editing) {
    state.editing.pm.disable();
    state.editing = null;
  }
  if (state.drawn) {
    state.drawn.remove();
    state.drawn = null;
  }
  if (state.tool === 'reshape' || state.pending?.edit.op === 'reshape') redrawGrids();
  state.tool = null;
  state.merge = [];
  state.pending = null;
  planMap.clearPreview();
  planMap.setSelected(state.grid ? [state.grid] : []);
  $('#give-to-options').hidden = true;
  $('#partition-options').hidden = true;
  $('#impact').hidden = true;
  delete mapEl.dataset.tool;
  mapEl.classList.remove('drawing');
  delete mapEl.dataset.preview;
  updateButtons();
}

function redrawGrids() {
  if (!state.plan) return;
  planMap.grids.clearLayers();
  planMap.grids.addData(state.plan.grids);
}

// A starting value for auto-partition: as many grids as now, or the middle of the target range.
function suggestPartition() {
  const by = document.querySelector('input[name="partition-by"]:checked').value;
  const target = state.plan?.target;
  $('#partition-value').value = by === 'n'
    ? Math.max(1, state.plan?.grids.features.length ?? 1)
    : Math.round(target ? (target.min_households + target.max_households) / 2 : 400);
  updateButtons();
}

for (const button of toolButtons) button.addEventListener('click', () => startTool(button.dataset.tool));
for (const radio of document.querySelectorAll('input[name="partition-by"]')) {
  radio.addEventListener('change', suggestPartition);
}
$('#partition-value').addEventListener('input', updateButtons);

map.on('pm:create', ({layer}) => {
  if (!['redraw', 'split', 'create'].includes(state.tool)) {
    layer.remove();
    return;
  }
  state.drawn?.remove();
  layer.options.snapIgnore = true;
  state.drawn = layer;
  map.pm.disableDraw();
  updateButtons();
  preview();
});

function polygonOf(geometry) {
  if (geometry.type === 'MultiPolygon' && geometry.coordinates.length === 1) {
    return {type: 'Polygon', coordinates: geometry.coordinates[0]};
  }
  return geometry;
}

function currentEdit() {
  const giveTo = $('#give-to').value;
  switch (state.tool) {
    case 'reshape': case 'redraw': {
      const layer = state.tool === 'reshape' ? state.editing : state.drawn;
      const edit = {op: 'reshape', grid: state.grid, geometry: polygonOf(layer.toGeoJSON().geometry)};
      if (giveTo) edit.give_to = giveTo;
      return edit;
    }
    case 'split':
      return {op: 'split', grid: state.grid, line: state.drawn.toGeoJSON().geometry};
    case 'create':
      return {op: 'create', geometry: polygonOf(state.drawn.toGeoJSON().geometry)};
    case 'merge':
      return {op: 'merge', grids: [...state.merge]};
    case 'partition': {
      const by = document.querySelector('input[name="partition-by"]:checked').value;
      return {op: 'partition', [by]: Number($('#partition-value').value)};
    }
    default:
      return null;
  }
}

// --- preview, commit, restore -----------------------------------------------------------------------

async function preview(edit = currentEdit(), opLabel = OP_LABELS[state.tool]) {
  if (!edit || state.busy) return;
  clearError();
  planMap.clearPreview();
  state.busy = true;
  updateButtons();
  setStatus(cfg.textPreviewing);
  let response;
  try {
    response = await api.preview(state.code, {version: state.plan.version, edit});
  } catch {
    response = {ok: false, status: 0, body: null};
  }
  state.busy = false;
  if (response.ok) {
    if (state.editing) state.editing.pm.disable();
    state.pending = {edit, result: response.body, tool: state.tool};
    planMap.showPreview(response.body);
    renderImpact($('#impact'), response.body, {
      target: state.plan.target, text, opLabel, community: state.code, communityName: state.plan.community.name,
      names: new Map(state.plan.grids.features.map((feature) => [feature.properties.code, feature.properties.name])),
    });
    setHint(cfg.textHintPreview);
    setStatus(cfg.textPreviewReady);
    mapEl.dataset.preview = 'ready';
  } else if (response.status === 409) {
    setStatus(cfg.textStale, true);
    showConflict(response.body);
  } else if (state.tool === 'restore') {
    resetTool();
    showError(response);
  } else {
    // Stay in the tool: the planner fixes the outline (or draws the line again) and previews again.
    if (state.drawn) {
      state.drawn.remove();
      state.drawn = null;
      map.pm.enableDraw(state.tool === 'split' ? 'Line' : 'Polygon', {...SNAP, allowSelfIntersection: true});
    }
    showError(response);
    mapEl.dataset.preview = 'error';
  }
  updateButtons();
}

async function commit() {
  if (!state.pending || state.busy) return;
  const {edit} = state.pending;
  const version = state.plan.version;
  if (edit.op === 'restore') {
    const reason = await askReason(fill(cfg.textRestoreTitle, {version: edit.to_version}));
    if (reason === null) return;
    await sendChange(() => api.restore(state.code, {version, toVersion: edit.to_version, reason}), cfg.textRestored);
    return;
  }
  const reason = await askReason(cfg.textCommitTitle);
  if (reason === null) return;
  await sendChange(() => api.commit(state.code, {version, edit, reason}), cfg.textCommitted);
}

async function sendChange(call, doneText) {
  clearError();
  state.busy = true;
  updateButtons();
  setStatus(cfg.textCommitting);
  let response;
  try {
    response = await call();
  } catch {
    response = {ok: false, status: 0, body: null};
  }
  state.busy = false;
  if (response.ok) {
    const code = state.code;
    state.pending = null;
    await loadCommunity(code, {fit: false});
    setStatus(fill(doneText, {version: response.body?.version ?? state.plan?.version}));
    mapEl.dataset.committed = String(response.body?.version ?? '');
  } else if (response.status === 409) {
    setStatus(cfg.textStale, true);
    showConflict(response.body);
  } else {
    showError(response);
  }
  updateButtons();
}

$('#preview-button').addEventListener('click', () => preview());
$('#commit-button').addEventListener('click', commit);
for (const button of [cancelButton, $('#discard-button')]) {
  button.addEventListener('click', () => {
    clearError();
    resetTool();
    setHint(cfg.textHintIdle);
    setStatus('');
  });
}
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && !document.querySelector('dialog[open]') && (state.tool || state.pending)) cancelButton.click();
});

// --- dialogs --------------------------------------------------------------------------------------------

function askReason(title) {
  return askReasonIn($('#reason-dialog'), title, {required: cfg.textReasonRequired});
}

async function showConflict(body) {
  const reload = await showConflictIn($('#conflict-dialog'), body, {stale: cfg.textStale, versionText: cfg.textVersion});
  if (reload && state.code) loadCommunity(state.code, {fit: false});
}

// --- for tests and power users: set the edited outline as if its vertices had been dragged ------------

window.gridPlan = {
  map,
  planMap,
  state,
  setOutline(geometry) {
    const layer = state.editing;
    if (!layer) throw new Error('start the reshape tool on a grid first');
    const depth = geometry.type === 'MultiPolygon' ? 2 : 1;
    layer.pm.disable();
    layer.setLatLngs(L.GeoJSON.coordsToLatLngs(geometry.coordinates, depth));
    layer.pm.enable({...SNAP, allowSelfIntersection: true, draggable: false});
    layer.fire('pm:edit', {layer, shape: 'Polygon'});
    updateButtons();
  },
};

// --- start --------------------------------------------------------------------------------------------

updateButtons();
setHint(cfg.textHintIdle);
await loadCommunities();
const wanted = decodeURIComponent(location.hash.slice(1));
if (wanted && communities.some((community) => community.code === wanted)) {
  await loadCommunity(wanted);
} else if (communities.length === 1) {
  await loadCommunity(communities[0].code);
} else {
  // Nothing picked yet: the whole territory, each community a click away (not a blank map of China).
  planMap.fitOverview();
  setHint(cfg.textHintPickCommunity);
}
mapEl.dataset.started = 'true';
