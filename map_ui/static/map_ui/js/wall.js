/* The command centre's wall map (/wall/). Data: /api/v1/wall/ (open cases in view as points or server-side
 * clusters, per-grid load, live counts), the stats API (rates per street/community), the territory API
 * (polygons, a grid's workers), the cases API (a case, its actions) and the live SSE stream, which moves
 * markers, counts and the ticker without a reload, and redraws the grids when a planner commits new boundaries. Configuration and translated text come from data-
 * attributes on #wall-map. Text from the data reaches the DOM only through textContent. */
/* global L */

import {escapeHtml, textNode} from './dom.js';

const mapEl = document.getElementById('wall-map');
const cfg = mapEl.dataset;
const STATUS_LABELS = JSON.parse(cfg.statusLabels || '{}');
const OPEN_STATUSES = cfg.openStatuses;
const OPEN = new Set(OPEN_STATUSES.split(','));
const FLAG = {overdue: 1, supervised: 2, urgent: 4};
const TIME_ZONE = 'Asia/Shanghai';
const LOCALE = (document.documentElement.lang || 'zh-hans').startsWith('en') ? 'en-GB' : 'zh-CN';
const TICKER_LENGTH = 30;
const PATROL_POLL_MS = 15000;

const statusEl = document.getElementById('map-status');
const caseCard = document.getElementById('case-card');
const gridCard = document.getElementById('grid-card');
const tickerEl = document.getElementById('ticker');

// --- small helpers --------------------------------------------------------------------------------

function setStatus(message, isError = false) {
  statusEl.textContent = message;
  statusEl.classList.toggle('error', isError);
}

const shortTime = new Intl.DateTimeFormat(LOCALE, {
  timeZone: TIME_ZONE, month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false,
});
const clockTime = new Intl.DateTimeFormat(LOCALE, {
  timeZone: TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit', weekday: 'short',
  hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
});

function formatTime(iso) {
  return iso ? shortTime.format(new Date(iso)) : '';
}

function percent(rate) {
  return rate === null || rate === undefined ? '—' : `${(rate * 100).toFixed(1)}%`;
}

class HttpError extends Error {
  constructor(status, body) {
    super(`HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function getJSON(url, signal) {
  const response = await fetch(url, {headers: {Accept: 'application/json'}, credentials: 'same-origin', signal});
  if (!response.ok) throw new HttpError(response.status, null);
  return response.json();
}

function csrfToken() {
  return document.querySelector('input[name=csrfmiddlewaretoken]')?.value ?? '';
}

async function postJSON(url, body) {
  const response = await fetch(url, {
    method: 'POST', credentials: 'same-origin', body: JSON.stringify(body),
    headers: {Accept: 'application/json', 'Content-Type': 'application/json', 'X-CSRFToken': csrfToken()},
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new HttpError(response.status, data);
  return data;
}

// Calls `fn` at once, then at most once per `ms`; a call in between runs when the interval is over.
function throttled(fn, ms) {
  let last = 0;
  let timer = null;
  return () => {
    if (timer) return;
    const wait = Math.max(0, last + ms - Date.now());
    timer = setTimeout(() => {
      timer = null;
      last = Date.now();
      fn();
    }, wait);
  };
}

function bboxParam(bounds) {
  const clamp = (value, limit) => Math.max(-limit, Math.min(limit, value)).toFixed(6);
  return [
    clamp(bounds.getWest(), 180), clamp(bounds.getSouth(), 90), clamp(bounds.getEast(), 180), clamp(bounds.getNorth(), 90),
  ].join(',');
}

// --- the map ----------------------------------------------------------------------------------------

// Half zoom steps: the district fills a hall screen instead of half of it (whole steps halve the scale).
const map = L.map(mapEl, {zoomControl: false, minZoom: 4, maxZoom: 19, zoomSnap: 0.5});
L.control.zoom({position: 'bottomleft'}).addTo(map);
L.control.scale({imperial: false, position: 'bottomleft'}).addTo(map);
map.attributionControl.setPrefix('Leaflet');
map.createPane('ground').style.zIndex = 350;
map.createPane('outline').style.zIndex = 440;
map.getPane('outline').style.pointerEvents = 'none';
map.createPane('patrols').style.zIndex = 450;

let plainGround = mapEl.classList.contains('basemap-none');
const ground = L.geoJSON(null, {pane: 'ground', interactive: false, style: groundStyle}).addTo(map);
const outline = L.geoJSON(null, {pane: 'outline', interactive: false,
  style: {color: '#7fb2ff', weight: 2.5, opacity: 0.8, fill: false}}).addTo(map);
const gridLayer = L.geoJSON(null, {style: gridStyle, onEachFeature: bindGrid}).addTo(map);
const caseLayer = L.layerGroup().addTo(map);
const patrolLayer = L.geoJSON(null, {pane: 'patrols', style: {color: '#38e8c6', weight: 3, opacity: 0.9},
  onEachFeature: bindPatrol});
const layerControl = L.control.layers(null, {
  [escapeHtml(cfg.textCases)]: caseLayer,
  [escapeHtml(cfg.textGrids)]: gridLayer,
}, {position: 'topleft', collapsed: false}).addTo(map);

function groundStyle() {
  return {stroke: false, fillColor: '#0f1b2d', fillOpacity: plainGround ? 1 : 0.35};
}

for (const spec of JSON.parse(cfg.tileLayers || '[]')) {
  let loaded = 0;
  let failed = 0;
  const layer = L.tileLayer(spec.url, {subdomains: spec.subdomains || 'abc', attribution: spec.attribution, maxZoom: 19});
  layer.on('tileload', () => { loaded += 1; });
  // Unreachable tiles: hide the tile pane and keep the plain dark ground the page is designed for.
  layer.on('tileerror', () => {
    failed += 1;
    if (failed >= 4 && loaded === 0 && !mapEl.classList.contains('tiles-failed')) {
      mapEl.classList.add('tiles-failed');
      document.getElementById('basemap-notice').hidden = false;
      plainGround = true;
      ground.resetStyle();
    }
  });
  layer.addTo(map);
}

// --- grids coloured by open-case load ---------------------------------------------------------------

const LOAD_COLOURS = ['#20344f', '#1f5f7a', '#2a8c8c', '#c9a227', '#e0702b', '#d7263d'];
let loads = {};
let loadBreaks = [1, 2, 3, 4, 5];

function computeBreaks() {
  const values = Object.values(loads).map((row) => row[0]).sort((a, b) => a - b);
  if (!values.length) {
    loadBreaks = [1, 2, 3, 4, 5];
    return;
  }
  // Quintiles of the grids that have open cases: the colours spread whatever the city's volume.
  loadBreaks = [0.2, 0.4, 0.6, 0.8].map((q) => values[Math.floor(q * (values.length - 1))]);
  loadBreaks.unshift(1);
}

function loadClass(n) {
  if (!n) return 0;
  let k = 1;
  for (let i = 1; i < loadBreaks.length; i += 1) if (n > loadBreaks[i]) k = i + 1;
  return Math.min(k, LOAD_COLOURS.length - 1);
}

function gridStyle(feature) {
  const n = loads[feature.properties.code]?.[0] ?? 0;
  const selected = feature.properties.code === selectedGrid;
  return {
    color: selected ? '#ffd166' : '#5d7ea6',
    weight: selected ? 3 : 0.7,
    fillColor: LOAD_COLOURS[loadClass(n)],
    fillOpacity: n ? 0.55 : 0.18,
  };
}

function bindGrid(feature, layer) {
  layer.bindTooltip(() => {
    const {name, code} = feature.properties;
    const tip = textNode('span', name);
    tip.append(textNode('span', `${cfg.textOpenCount} ${loads[code]?.[0] ?? 0}`, 'tip-meta'));
    return tip;
  }, {sticky: true, className: 'wall-tip'});
  layer.on('click', () => selectGrid(feature.properties.code));
}

async function loadGridLoads() {
  try {
    loads = (await getJSON(cfg.gridLoadsUrl)).grids;
    computeBreaks();
    gridLayer.setStyle(gridStyle);
  } catch {
    setStatus(cfg.textFailed, true);
  }
}

function toleranceFor(zoom) {
  return (180 / (256 * 2 ** zoom)).toPrecision(2);
}

async function loadDistricts() {
  const districts = await getJSON(`${cfg.districtsUrl}?simplify=${toleranceFor(13)}`);
  ground.addData(districts);
  outline.addData(districts);
}

async function loadGrids() {
  try {
    const grids = await getJSON(`${cfg.gridsUrl}?simplify=${toleranceFor(14)}`);
    gridLayer.clearLayers(); // only now: a failed reload keeps the old grids on the wall, not an empty map
    gridLayer.addData(grids);
  } catch {
    setStatus(cfg.textFailed, true);
  }
}

// A planner committed new boundaries (or the stream came back): the grids and their loads again, in place.
// One reload at a time; hints arriving meanwhile make one more after it, with the newest version.
let gridsReloading = null;
let gridsStale = false;

function reloadGrids() {
  if (gridsReloading) {
    gridsStale = true;
    return gridsReloading;
  }
  gridsReloading = Promise.all([loadGrids(), loadGridLoads()]).finally(() => {
    gridsReloading = null;
    if (selectedGrid) {
      const still = gridLayer.getLayers().some((layer) => layer.feature.properties.code === selectedGrid);
      if (still) {
        selectGrid(selectedGrid); // its outline, worker and cases may have changed
      } else { // merged away or retired
        selectedGrid = null;
        gridCard.hidden = true;
      }
    }
    if (gridsStale) {
      gridsStale = false;
      reloadGrids();
    }
  });
  return gridsReloading;
}

function fitTerritory() {
  for (const layer of [outline, gridLayer]) {
    const bounds = layer.getBounds();
    if (bounds.isValid()) {
      map.fitBounds(bounds, {paddingBottomRight: [mapEl.clientWidth > 1000 ? 440 : 0, 0], maxZoom: 16});
      return true;
    }
  }
  return false;
}

// --- cases in view: points or clusters --------------------------------------------------------------

const markers = new Map(); // case id → marker, in points mode
let viewMode = null;
let viewRequest = null;

function flagsOf(event) {
  const late = event.overdue || (event.deadline && new Date(event.deadline) < new Date());
  return (late ? FLAG.overdue : 0) | (event.supervised ? FLAG.supervised : 0);
}

function dotIcon(status, flags) {
  const classes = ['case-dot', `status-${/^[a-z_]+$/.test(status) ? status : 'other'}`];
  if (flags & FLAG.overdue) classes.push('overdue');
  if (flags & FLAG.supervised) classes.push('supervised');
  if (flags & FLAG.urgent) classes.push('urgent');
  return L.divIcon({className: classes.join(' '), iconSize: [16, 16], html: ''});
}

function upsertPoint(id, lat, lon, status, flags) {
  let marker = markers.get(id);
  if (marker) {
    marker.setLatLng([lat, lon]);
    if (marker.options.state !== `${status}:${flags}`) marker.setIcon(dotIcon(status, flags));
  } else {
    marker = L.marker([lat, lon], {icon: dotIcon(status, flags), keyboard: true, riseOnHover: true});
    marker.on('click', () => openCase(id));
    marker.on('add', () => { marker.getElement().dataset.caseId = String(id); });
    markers.set(id, marker);
    caseLayer.addLayer(marker);
  }
  marker.options.state = `${status}:${flags}`;
  const element = marker.getElement();
  if (element) element.dataset.caseId = String(id);
  return marker;
}

function removePoint(id) {
  const marker = markers.get(id);
  if (marker) {
    caseLayer.removeLayer(marker);
    markers.delete(id);
  }
}

function clusterIcon(count, late, watched) {
  const root = document.createElement('div');
  root.append(textNode('span', count.toLocaleString(LOCALE), 'n'));
  if (late) root.append(textNode('span', String(late), 'badge late'));
  if (watched) root.append(textNode('span', String(watched), 'badge watched'));
  const size = Math.round(28 + 7 * Math.log10(count)); // 28 px for one case, 63 px for 100,000: cells are 80 px
  const classes = ['case-cluster'];
  if (late) classes.push('has-late');
  return L.divIcon({className: classes.join(' '), html: root, iconSize: [size, size]});
}

function drawClusters(rows) {
  caseLayer.clearLayers();
  markers.clear();
  for (const [lon, lat, count, late, watched] of rows) {
    const marker = L.marker([lat, lon], {icon: clusterIcon(count, late, watched), keyboard: false});
    marker.bindTooltip(cfg.textCluster, {direction: 'top', className: 'wall-tip'});
    marker.on('click', () => map.flyTo([lat, lon], Math.min(map.getZoom() + 2, 18)));
    caseLayer.addLayer(marker);
  }
}

function drawPoints(rows) {
  if (viewMode !== 'points') caseLayer.clearLayers();
  const keep = new Set();
  for (const [id, lon, lat, status, flags] of rows) {
    keep.add(id);
    upsertPoint(id, lat, lon, status, flags);
  }
  for (const id of [...markers.keys()]) if (!keep.has(id)) removePoint(id);
}

async function loadView() {
  viewRequest?.abort();
  const request = new AbortController();
  viewRequest = request;
  // Down, not to the nearest: the server's cluster cells are sized for a whole zoom, never smaller on screen.
  const zoom = Math.floor(map.getZoom());
  const url = `${cfg.casesUrl}?bbox=${bboxParam(map.getBounds().pad(0.1))}&zoom=${zoom}`;
  try {
    const data = await getJSON(url, request.signal);
    if (data.mode === 'points') drawPoints(data.cases);
    else drawClusters(data.clusters);
    viewMode = data.mode;
    mapEl.dataset.mode = data.mode;
    mapEl.dataset.ready = 'true';
    setStatus(data.truncated ? cfg.textTruncated : '');
  } catch (error) {
    if (error.name !== 'AbortError') setStatus(cfg.textFailed, true);
  }
}

const refreshView = throttled(loadView, 2000);

// --- live counts and rates --------------------------------------------------------------------------

async function loadCounts() {
  try {
    const counts = await getJSON(cfg.summaryUrl);
    const show = (id, value) => { document.getElementById(id).textContent = Number(value).toLocaleString(LOCALE); };
    show('count-open', counts.open);
    show('count-overdue', counts.overdue);
    show('count-supervised', counts.supervised);
    show('count-today', counts.today_new);
  } catch {
    setStatus(cfg.textFailed, true);
  }
}

const refreshCounts = throttled(loadCounts, 1000);
let ratesNode = '';

async function loadRates(node = ratesNode) {
  const url = node ? `${cfg.statsUrl}?node=${encodeURIComponent(node)}` : cfg.statsUrl;
  let body;
  try {
    body = await getJSON(url);
  } catch {
    return; // no single home node (several scopes) or no stats: the table stays empty
  }
  ratesNode = node;
  document.getElementById('rates-subject').textContent = body.subject.name;
  document.getElementById('rates-up').hidden = !node;
  const rows = document.getElementById('rate-rows');
  rows.replaceChildren();
  const lines = body.children.length ? body.children : [{...body.subject, figures: body.figures}];
  for (const child of lines) {
    const row = document.createElement('tr');
    const name = child.kind === 'unplaced' ? cfg.textUnplaced : (child.name ?? child.code);
    const head = document.createElement('th');
    head.scope = 'row';
    if (child.kind === 'street') {
      const button = textNode('button', name, 'link drill');
      button.type = 'button';
      button.addEventListener('click', () => loadRates(child.code));
      head.append(button);
    } else {
      head.textContent = name;
    }
    row.append(head, textNode('td', String(child.figures.open_now), 'num'),
      textNode('td', percent(child.figures.closed_rate), 'num'), textNode('td', percent(child.figures.on_time_rate), 'num'));
    rows.append(row);
  }
}

document.getElementById('rates-up').addEventListener('click', () => loadRates(''));
const refreshRates = throttled(() => loadRates(), 30000);

// --- categories (names for codes) ----------------------------------------------------------------

let categoryNames = {};

async function loadCategories() {
  try {
    const rows = await getJSON('/api/v1/categories/');
    categoryNames = Object.fromEntries((rows.results ?? rows).map((row) => [row.code, row.name]));
  } catch {
    categoryNames = {};
  }
}

// --- the ticker of new cases ----------------------------------------------------------------------

function addTicker({id, number, category, at, description, lon, lat}, fresh) {
  const item = document.createElement('li');
  if (fresh) item.className = 'fresh';
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'ticker-item';
  button.dataset.caseId = String(id);
  const head = textNode('span', formatTime(at), 'when');
  head.append(textNode('span', number, 'number'), textNode('span', category, 'category'));
  button.append(head, textNode('span', (description ?? '').slice(0, 80), 'what'));
  button.addEventListener('click', () => {
    if (lat !== null && lat !== undefined) map.setView([lat, lon], Math.max(map.getZoom(), 17));
    openCase(id);
  });
  item.append(button);
  tickerEl.prepend(item);
  while (tickerEl.children.length > TICKER_LENGTH) tickerEl.lastElementChild.remove();
}

async function loadTicker() {
  try {
    const page = await getJSON(`${cfg.caseListUrl}?ordering=-received_at&page_size=12`);
    for (const c of page.results.reverse()) {
      addTicker({id: c.id, number: c.number, category: categoryNames[c.category] ?? c.category ?? '',
        at: c.received_at, description: c.description,
        lon: c.location?.coordinates[0], lat: c.location?.coordinates[1]}, false);
    }
  } catch {
    setStatus(cfg.textFailed, true);
  }
}

// --- the case card ----------------------------------------------------------------------------------

let selectedCase = null;

function fillCase(c) {
  const field = (name) => caseCard.querySelector(`[data-field="${name}"]`);
  field('number').textContent = c.number;
  field('category').textContent = categoryNames[c.category] ?? c.category ?? '';
  field('status').textContent = STATUS_LABELS[c.status] ?? c.status;
  field('address').textContent = c.address || [c.street?.name, c.community?.name, c.grid?.name].filter(Boolean).join(' ');
  field('description').textContent = c.description;
  field('deadline').textContent = formatTime(c.deadline);
  field('assignee').textContent = c.assignee?.name ?? c.departments?.map((d) => d.name).join('、') ?? cfg.textUnassigned;
  if (!field('assignee').textContent) field('assignee').textContent = cfg.textUnassigned;
  field('received_at').textContent = formatTime(c.received_at);
  field('supervision_note').textContent = c.supervision_note || '—';
  const badges = field('badges');
  badges.replaceChildren();
  const late = c.overdue || c.deadline_state === 'overdue';
  if (late) badges.append(textNode('span', cfg.textOverdue, 'badge late'));
  if (c.supervised) badges.append(textNode('span', cfg.textSupervised, 'badge watched'));
  if (c.priority === 'urgent') badges.append(textNode('span', cfg.textUrgent, 'badge urgent'));
  for (const button of caseCard.querySelectorAll('[data-action]')) {
    button.hidden = !c.allowed_actions?.includes(button.dataset.action);
  }
  caseCard.dataset.caseId = String(c.id);
  caseCard.dataset.status = c.status;
  caseCard.hidden = false;
  // The marker follows what the card shows (a step taken here or elsewhere).
  if (markers.has(c.id) && c.location) {
    if (OPEN.has(c.status)) {
      const flags = (late ? FLAG.overdue : 0) | (c.supervised ? FLAG.supervised : 0) | (c.priority === 'urgent' ? FLAG.urgent : 0);
      upsertPoint(c.id, c.location.coordinates[1], c.location.coordinates[0], c.status, flags);
    } else {
      removePoint(c.id);
    }
  }
}

async function openCase(id) {
  selectedCase = id;
  gridCard.hidden = true;
  caseCard.querySelector('.supervise-form').hidden = true;
  caseCard.querySelector('.card-status').textContent = '';
  try {
    const c = await getJSON(`${cfg.caseListUrl}${id}/`);
    if (selectedCase === id) fillCase(c);
  } catch {
    setStatus(cfg.textFailed, true);
  }
}

async function takeAction(action, body) {
  const id = selectedCase;
  const note = caseCard.querySelector('.card-status');
  try {
    const c = await postJSON(`${cfg.caseListUrl}${id}/${action}/`, body);
    caseCard.querySelector('.supervise-form').hidden = true;
    fillCase(c);
    note.textContent = cfg.textDone;
    note.classList.remove('error');
    refreshCounts();
  } catch (error) {
    const detail = error.body ? Object.values(error.body).flat().filter((v) => typeof v === 'string').join(' ') : '';
    note.textContent = `${cfg.textActionFailed}${detail ? `: ${detail}` : ''}`;
    note.classList.add('error');
  }
}

caseCard.querySelector('[data-action="register"]').addEventListener('click', () => takeAction('register', {}));
caseCard.querySelector('[data-action="dispatch"]').addEventListener('click', () => takeAction('dispatch', {}));
caseCard.querySelector('[data-action="supervise"]').addEventListener('click', () => {
  const form = caseCard.querySelector('.supervise-form');
  form.hidden = false;
  form.querySelector('textarea').focus();
});
caseCard.querySelector('.supervise-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const note = event.target.querySelector('textarea').value.trim();
  if (!note) {
    caseCard.querySelector('.card-status').textContent = cfg.textNoteRequired;
    return;
  }
  takeAction('supervise', {note});
});
caseCard.querySelector('[data-cancel]').addEventListener('click', () => {
  caseCard.querySelector('.supervise-form').hidden = true;
});

// --- the grid card: its workers and open cases ------------------------------------------------------

let selectedGrid = null;

async function selectGrid(code) {
  selectedGrid = code;
  gridLayer.setStyle(gridStyle);
  caseCard.hidden = true;
  selectedCase = null;
  const field = (name) => gridCard.querySelector(`[data-field="${name}"]`);
  field('code').textContent = code;
  field('name').textContent = '';
  field('workers').replaceChildren();
  field('cases').replaceChildren();
  field('case_count').textContent = '';
  gridCard.hidden = false;
  try {
    const [detail, cases] = await Promise.all([
      getJSON(`${cfg.gridsUrl}${encodeURIComponent(code)}/`),
      getJSON(`${cfg.caseListUrl}?grid=${encodeURIComponent(code)}&status=${OPEN_STATUSES}&ordering=deadline&page_size=20`),
    ]);
    if (selectedGrid !== code) return;
    field('name').textContent = detail.properties.name;
    for (const worker of detail.properties.workers ?? []) {
      const item = textNode('li', worker.name);
      item.append(textNode('span', worker.role_label, 'role'));
      field('workers').append(item);
    }
    if (!field('workers').children.length) field('workers').append(textNode('li', cfg.textNoWorkers, 'empty'));
    field('case_count').textContent = String(cases.count);
    for (const c of cases.results) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'grid-case';
      if (c.overdue || c.deadline_state === 'overdue') button.classList.add('late');
      button.append(textNode('span', c.number, 'number'), textNode('span', STATUS_LABELS[c.status] ?? c.status, 'state'),
        textNode('span', c.description.slice(0, 60), 'what'));
      button.addEventListener('click', () => openCase(c.id));
      const item = document.createElement('li');
      item.append(button);
      field('cases').append(item);
    }
    if (!cases.results.length) field('cases').append(textNode('li', cfg.textNoCases, 'empty'));
  } catch {
    setStatus(cfg.textFailed, true);
  }
}

for (const card of [caseCard, gridCard]) {
  card.querySelector('[data-close]').addEventListener('click', () => {
    card.hidden = true;
    if (card === gridCard) {
      selectedGrid = null;
      gridLayer.setStyle(gridStyle);
    } else {
      selectedCase = null;
    }
  });
}

// --- patrols (toggleable; hidden when the server has no patrol API) --------------------------------

let patrolTimer = null;
let patrolsShown = false;

function bindPatrol(feature, layer) {
  const p = feature.properties;
  layer.bindTooltip(() => {
    const tip = textNode('span', p.worker_name);
    const km = ((p.distance_m ?? 0) / 1000).toFixed(2);
    tip.append(textNode('span', `${cfg.textDistance} ${km} km · ${cfg.textStarted} ${formatTime(p.started_at)}`, 'tip-meta'));
    return tip;
  }, {sticky: true, className: 'wall-tip'});
}

async function loadPatrols() {
  try {
    const data = await getJSON(cfg.patrolsUrl);
    patrolLayer.clearLayers();
    patrolLayer.addData(data);
    if (!patrolsShown) {
      patrolsShown = true;
      patrolLayer.addTo(map);
      layerControl.addOverlay(patrolLayer, escapeHtml(cfg.textPatrols));
    }
  } catch (error) {
    if (error instanceof HttpError && error.status === 404) {
      clearInterval(patrolTimer); // not served here: no layer, no noise
      if (patrolsShown) {
        layerControl.removeLayer(patrolLayer);
        map.removeLayer(patrolLayer);
      }
    }
  }
}

// --- live: the SSE stream ---------------------------------------------------------------------------

const seenEvents = new Set();
const liveState = document.getElementById('live-state');
const refreshLoads = throttled(loadGridLoads, 5000);

function onCaseEvent(event) {
  if (seenEvents.has(event.event_id)) return; // replays after a reconnect may repeat an event
  seenEvents.add(event.event_id);
  const placed = event.lon !== null && event.lon !== undefined;
  if (viewMode === 'points') {
    if (OPEN.has(event.status) && placed && map.getBounds().pad(0.1).contains([event.lat, event.lon])) {
      const known = markers.get(event.case_id)?.options.state?.split(':')[1];
      const urgent = known ? Number(known) & FLAG.urgent : 0;
      upsertPoint(event.case_id, event.lat, event.lon, event.status, flagsOf(event) | urgent);
    } else {
      removePoint(event.case_id);
    }
    if (markers.size > 0 && event.action === 'receive') refreshView(); // may now hold too many: clusters
  } else {
    refreshView();
  }
  if (event.action === 'receive') {
    addTicker({id: event.case_id, number: event.number, category: event.category_name ?? event.category ?? '',
      at: event.at, description: event.description, lon: event.lon, lat: event.lat}, true);
  }
  if (selectedCase === event.case_id) openCase(event.case_id);
  refreshCounts();
  refreshLoads();
  refreshRates();
}

function connectLive() {
  const source = new EventSource(cfg.liveUrl);
  let opened = false;
  source.addEventListener('open', () => {
    liveState.textContent = cfg.textLiveOn;
    liveState.classList.remove('off');
    mapEl.dataset.live = 'true';
    // Back after a break: boundary changes are not replayed (cases are), so the grids are read again.
    if (opened) reloadGrids();
    opened = true;
  });
  source.addEventListener('error', () => {
    liveState.textContent = cfg.textLiveOff;
    liveState.classList.add('off');
  });
  source.addEventListener('case', (message) => onCaseEvent(JSON.parse(message.data)));
  // Too far behind for a replay: reload the state.
  source.addEventListener('reset', () => {
    loadView();
    loadCounts();
    reloadGrids();
  });
  // A planner committed a new boundary version of a community in my scope: redraw the grids, no page reload.
  source.addEventListener('territory', reloadGrids);
}

// --- wiring -----------------------------------------------------------------------------------------

const clock = document.getElementById('clock');
const tick = () => { clock.textContent = clockTime.format(new Date()); };
tick();
setInterval(tick, 1000);

let moveTimer = null;
map.on('moveend', () => {
  clearTimeout(moveTimer);
  moveTimer = setTimeout(loadView, 150);
});

setStatus(cfg.textLoading);
connectLive();
loadCounts();
loadRates('');
const categoriesLoaded = loadCategories();
try {
  await loadDistricts();
} catch {
  setStatus(cfg.textFailed, true);
}
// The cases first (what the wall is for), the grid polygons and their loads beside them.
const gridsLoaded = Promise.all([loadGrids(), loadGridLoads()]);
if (!fitTerritory()) {
  await gridsLoaded;
  if (!fitTerritory()) map.setView([35, 105], 4);
}
clearTimeout(moveTimer);
await loadView();
await categoriesLoaded;
loadTicker();
loadPatrols();
patrolTimer = setInterval(loadPatrols, PATROL_POLL_MS);
// Deadlines pass without any event: the overdue figures and rings are refreshed each minute.
setInterval(() => {
  loadCounts();
  loadGridLoads();
  refreshView();
}, 60000);
