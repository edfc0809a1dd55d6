/* The grid worker's phone page (/m/): my grids and their buildings, my open cases (map and list by deadline),
 * a case's detail with photos, timeline and the steps I may take, 随手拍 at my position, patrol mode, and live
 * updates; grid change notices (worker_notices.js) redraw my grids. Configuration and every message come from
 * the #worker-config JSON the server renders; text from the data reaches the DOM only through textContent.
 * Submissions go through the outbox (worker_queue.js). */
/* global L */
import {Outbox} from './worker_queue.js';
import {Patrol, rememberPatrol} from './worker_patrol.js';
import {Notices} from './worker_notices.js';

const cfg = JSON.parse(document.getElementById('worker-config').textContent);
const T = cfg.texts;
const app = document.getElementById('worker-app');
const $ = (id) => document.getElementById(id);

const STATUS_COLOURS = {
  received: '#64748b', registered: '#64748b', dispatched: '#1d5fa8', accepted: '#0f766e',
  in_progress: '#c2410c', handled: '#7c3aed', verified: '#15803d',
};
const DEADLINE_COLOURS = {yellow: '#eab308', red: '#dc2626'};
const LOCALE = document.documentElement.lang === 'en' ? 'en-GB' : 'zh-CN';
const TIME = new Intl.DateTimeFormat(LOCALE, {
  timeZone: 'Asia/Shanghai', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false,
});

function fmt(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_, name) => String(values[name] ?? ''));
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function when(iso) {
  return iso ? TIME.format(new Date(iso)) : '';
}

function safeUrl(url) {
  try {
    const parsed = new URL(url, location.href);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : '';
  } catch {
    return '';
  }
}

let toastTimer = null;
function toast(message, isError = false) {
  const node = $('toast');
  node.textContent = message;
  node.classList.toggle('error', isError);
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { node.hidden = true; }, 4000);
}

function reasonOf(body) {
  if (!body || typeof body !== 'object') return T.networkError;
  if (body.detail) return String(body.detail);
  return Object.entries(body).map(([field, messages]) => `${field}: ${[].concat(messages).flat().map(
    (m) => (typeof m === 'object' ? JSON.stringify(m) : m)).join(' ')}`).join('; ');
}

const fetched = new Set();  // what the page read, for the offline copy (keepShell)

async function getJSON(url) {
  fetched.add(new URL(url, location.href).href);
  const response = await fetch(url, {headers: {Accept: 'application/json'}, credentials: 'same-origin'});
  if (!response.ok) throw new Error(`${response.status} ${url}`);
  return response.json();
}

// --- the map --------------------------------------------------------------------------------------------

const map = L.map('worker-map', {zoomControl: false, attributionControl: true, tap: true});
L.control.zoom({position: 'topright'}).addTo(map);
if (cfg.bbox) {
  map.fitBounds([[cfg.bbox[1], cfg.bbox[0]], [cfg.bbox[3], cfg.bbox[2]]], {padding: [12, 12]});
} else {
  map.setView([cfg.centre[1], cfg.centre[0]], 15);
}

(function addTiles(layers) {
  const mapEl = $('worker-map');
  let loaded = 0;
  let failed = 0;
  for (const spec of layers) {
    const layer = L.tileLayer(spec.url, {subdomains: spec.subdomains || 'abc', attribution: spec.attribution,
                                         maxZoom: 19});
    layer.on('tileload', () => { loaded += 1; });
    layer.on('tileerror', () => {  // unreachable tiles: keep the plain ground, it is drawn for this
      failed += 1;
      if (failed >= 4 && loaded === 0) mapEl.classList.add('tiles-failed');
    });
    layer.addTo(map);
  }
}(cfg.tileLayers));

const gridLayer = L.geoJSON(null, {
  style: {color: '#1d5fa8', weight: 3, fillColor: '#1d5fa8', fillOpacity: 0.06, className: 'my-grid'},
  interactive: false,
}).addTo(map);
const buildingLayer = L.geoJSON(null, {
  style: {color: '#51607a', weight: 1, fillColor: '#94a3b8', fillOpacity: 0.35, className: 'building'},
  interactive: false,
}).addTo(map);
const caseLayer = L.layerGroup().addTo(map);
let hereMarker = null;

/* My grids and their buildings. The first load asks within the page's bbox (the URL the offline copy keeps);
 * after a boundary change (cfg.bbox cleared) all of my grids, wherever they now are. */
async function loadTerritory() {
  const mine = new Set(cfg.grids.map((g) => g.code));
  const query = cfg.bbox ? `?in_bbox=${cfg.bbox.join(',')}` : '';
  const grids = mine.size ? await getJSON(`${cfg.urls.grids}${query}`) : {features: []};
  const buildings = [];
  for (const grid of cfg.grids) {
    let url = `${cfg.urls.buildings}?grid=${encodeURIComponent(grid.code)}`;
    for (let page = 0; url && page < 5; page += 1) {
      const body = await getJSON(url);
      buildings.push(body);
      url = body.next ? safeUrl(body.next) : '';
    }
  }
  gridLayer.clearLayers();  // only now: a failed reload leaves the old outline, not an empty map
  buildingLayer.clearLayers();
  gridLayer.addData({type: 'FeatureCollection',
                     features: grids.features.filter((f) => mine.has(f.properties.code ?? f.id))});
  for (const body of buildings) buildingLayer.addData(body);
}

/* A planner changed my grids: the header's names, the outline and buildings, the view if they moved off it. */
async function redrawGrids(grids) {
  cfg.grids = grids;
  cfg.bbox = null;
  const names = document.querySelector('.topbar .grids');
  if (grids.length) names.replaceChildren(...grids.map((g) => el('span', 'grid-name', g.name)));
  await loadTerritory();
  const bounds = gridLayer.getBounds();
  if (bounds.isValid() && !map.getBounds().contains(bounds)) map.fitBounds(bounds, {padding: [12, 12]});
}

// --- cases -----------------------------------------------------------------------------------------------

let cases = [];
let current = null;  // the case shown in the detail view
let currentTimeline = [];

function caseColour(c) {
  return STATUS_COLOURS[c.status] || '#64748b';
}

function deadlineText(c) {
  if (!c.deadline) return T.noDeadline;
  const warn = c.deadline_state === 'red' ? T.overdue : c.deadline_state === 'yellow' ? T.nearDeadline : '';
  return warn ? `${when(c.deadline)} · ${warn}` : when(c.deadline);
}

function renderCases() {
  const list = $('case-list');
  list.replaceChildren();
  caseLayer.clearLayers();
  $('case-count').textContent = cases.length ? `(${cases.length})` : '';
  $('case-list-empty').hidden = cases.length > 0;
  for (const c of cases) {
    const item = el('li', `case-item status-${c.status} deadline-${c.deadline_state || 'none'}`);
    item.dataset.caseId = c.id;
    item.dataset.status = c.status;
    const button = el('button', 'case-open');
    button.type = 'button';
    const top = el('span', 'case-top');
    top.append(el('span', 'case-number', c.number), el('span', 'badge', cfg.statusLabels[c.status] || c.status));
    top.querySelector('.badge').style.background = caseColour(c);
    button.append(top, el('span', 'case-desc', c.description),
                  el('span', 'case-deadline', `${T.deadline} ${deadlineText(c)}`));
    button.addEventListener('click', () => openCase(c.id));
    item.append(button);
    list.append(item);
    if (c.location) {
      const [lon, lat] = c.location.coordinates;
      const ring = DEADLINE_COLOURS[c.deadline_state] || '#ffffff';
      const marker = L.circleMarker([lat, lon], {radius: 10, color: ring, weight: ring === '#ffffff' ? 2 : 4,
                                                 fillColor: caseColour(c), fillOpacity: 0.95});
      marker.bindTooltip(el('span', '', c.number));
      marker.on('click', () => openCase(c.id));
      marker.addTo(caseLayer);
    }
  }
}

async function loadCases() {
  const params = new URLSearchParams({status: cfg.openStatuses.join(','), ordering: 'deadline', page_size: '200'});
  const body = await getJSON(`${cfg.urls.cases}?${params}`);
  cases = body.results;
  renderCases();
}

let reloadTimer = null;
function reloadSoon() {
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(async () => {
    try {
      await loadCases();
      if (current && !$('detail-view').hidden && $('action-form').hidden) await openCase(current.id, false);
    } catch {
      // offline: the list stays as it was and reloads on the next event or `online`
    }
  }, 250);
}

// --- views -----------------------------------------------------------------------------------------------

function show(view) {
  for (const id of ['list-view', 'detail-view', 'report-view', 'notice-view']) $(id).hidden = id !== view;
  $('list-button').setAttribute('aria-pressed', String(view === 'list-view'));
  placing = view === 'report-view' && placing;
  $('map-hint').hidden = !placing;
}

async function openCase(id, switchView = true) {
  const [c, timeline] = await Promise.all([getJSON(`${cfg.urls.cases}${id}/`),
                                           getJSON(`${cfg.urls.cases}${id}/timeline/`)]);
  current = c;
  currentTimeline = timeline;
  $('case-title').textContent = c.number;
  $('case-status').textContent = cfg.statusLabels[c.status] || c.status;
  $('case-status').style.background = caseColour(c);
  $('case-description').textContent = c.description;
  $('case-category').textContent = categoryName(c.category);
  $('case-address').textContent = c.address || '—';
  $('case-deadline').textContent = deadlineText(c);
  $('case-deadline').className = `deadline-${c.deadline_state || 'none'}`;
  $('case-received').textContent = when(c.received_at);
  for (const button of document.querySelectorAll('.case-action')) {
    const action = button.dataset.action;
    button.textContent = cfg.actions[action];
    button.hidden = !c.allowed_actions.includes(action);
  }
  renderPhotos($('case-photos'), [...c.photos, ...timeline.flatMap((e) => e.photos)]);
  const list = $('case-timeline');
  list.replaceChildren();
  for (const event of timeline) {
    const li = el('li', 'event');
    li.append(el('span', 'event-label', event.label), el('time', 'event-at', when(event.at)));
    if (event.actor) li.append(el('span', 'event-actor', event.actor.name));
    if (event.note) li.append(el('p', 'event-note', event.note));
    list.append(li);
  }
  if (c.location) map.panTo([c.location.coordinates[1], c.location.coordinates[0]]);
  if (switchView) {
    $('action-form').hidden = true;
    show('detail-view');
  }
}

function renderPhotos(container, photos) {
  container.replaceChildren();
  const seen = new Set();
  for (const photo of photos) {
    const href = safeUrl(photo.url);
    if (!href || seen.has(href)) continue;
    seen.add(href);
    const link = el('a', 'photo');
    link.href = href;
    link.target = '_blank';
    link.rel = 'noopener';
    const img = el('img');
    img.src = safeUrl(photo.thumbnail) || href;
    img.alt = '';
    img.loading = 'lazy';
    link.append(img);
    container.append(link);
  }
  if (!seen.size) container.append(el('p', 'empty', T.noPhotos));
}

// --- categories ----------------------------------------------------------------------------------------

const categories = new Map();
function categoryName(code) {
  const category = categories.get(code);
  return category ? `${category.major_name} · ${category.name}` : (code || T.unknownCategory);
}

async function loadCategories() {
  const select = $('report-category');
  const groups = new Map();
  for (const category of await getJSON(cfg.urls.categories)) {
    categories.set(category.code, category);
    if (!groups.has(category.major_name)) {
      const group = el('optgroup');
      group.label = category.major_name;
      groups.set(category.major_name, group);
      select.append(group);
    }
    const option = el('option', '', category.name);
    option.value = category.code;
    groups.get(category.major_name).append(option);
  }
}

// --- 随手拍 ------------------------------------------------------------------------------------------------

let reportPoint = null;  // [lon, lat] WGS84
let placing = false;

function setReportPoint(lon, lat, message) {
  reportPoint = [lon, lat];
  if (!hereMarker) {
    hereMarker = L.marker([lat, lon], {title: T.reportHere, keyboard: false}).addTo(map);
  } else {
    hereMarker.setLatLng([lat, lon]);
  }
  $('report-location').textContent = message;
  $('report-location').classList.remove('warning');
}

function startPlacing() {
  placing = true;
  $('report-location').textContent = T.locationDenied;
  $('report-location').classList.add('warning');
  $('map-hint').textContent = T.tapToPlace;
  $('map-hint').hidden = false;
}

map.on('click', (event) => {
  if ($('report-view').hidden) return;
  setReportPoint(event.latlng.lng, event.latlng.lat, T.placed);
  $('map-hint').hidden = true;
});

function openReport() {
  show('report-view');
  $('report-error').hidden = true;
  if (reportPoint) return;
  if (!navigator.geolocation) {
    startPlacing();
    return;
  }
  $('report-location').textContent = T.locating;
  navigator.geolocation.getCurrentPosition(
    (position) => {
      if (reportPoint && placing) return;  // tapped meanwhile
      const {longitude, latitude, accuracy} = position.coords;
      setReportPoint(longitude, latitude, fmt(T.located, {m: Math.round(accuracy)}));
      map.panTo([latitude, longitude]);
    },
    () => { if (!reportPoint) startPlacing(); },
    {enableHighAccuracy: true, timeout: 10000, maximumAge: 30000},
  );
}

function formError(node, message) {
  node.textContent = message;
  node.hidden = !message;
}

async function submitReport(event) {
  event.preventDefault();
  const error = $('report-error');
  const category = $('report-category').value;
  const description = $('report-description').value.trim();
  if (!reportPoint) return formError(error, T.needLocation);
  if (!category) return formError(error, T.needCategory);
  if (!description) return formError(error, T.needDescription);
  formError(error, '');
  const fields = {
    description, category, channel: 'patrol', crs: 'wgs84',
    location: JSON.stringify({type: 'Point', coordinates: reportPoint}),
  };
  await outbox.add({kind: 'report', url: cfg.urls.cases, fields, files: [...$('report-photos').files]});
  $('report-form').reset();
  reportPoint = null;
  if (hereMarker) { hereMarker.remove(); hereMarker = null; }
  show('list-view');
  await outbox.flush();
  if (await outbox.count()) toast(T.queued);
  return undefined;
}

/* A report the server refused (400): back in the form, as it was, with the reason, to fix and send again. */
function restoreReport(item, body) {
  if (!$('report-view').hidden && $('report-description').value) return;  // a new report is being written
  show('report-view');
  $('report-category').value = item.fields.category;
  $('report-description').value = item.fields.description;
  try {
    const [lon, lat] = JSON.parse(item.fields.location).coordinates;
    setReportPoint(lon, lat, T.placed);
  } catch {
    reportPoint = null;
  }
  if (item.files && item.files.length && window.DataTransfer) {
    const files = new DataTransfer();
    for (const file of item.files) files.items.add(file);
    $('report-photos').files = files.files;
  }
  formError($('report-error'), fmt(T.reportFailed, {reason: reasonOf(body)}));
}

// --- workflow steps --------------------------------------------------------------------------------------

const FORM_FIELDS = {  // which inputs each step asks for; the rest go straight to the server
  hand_in: {note: true},
  return: {reason: true},
  request_extension: {reason: true, hours: true},
  escalate: {note: false},
};
let pendingAction = null;

function chooseAction(action) {
  const fields = FORM_FIELDS[action];
  if (!fields) {
    queueAction(action, {}, []);
    return;
  }
  pendingAction = action;
  $('action-title').textContent = cfg.actions[action];
  $('action-submit').textContent = cfg.actions[action];
  for (const name of ['note', 'reason', 'hours']) {
    $(`action-${name}`).hidden = !(name in fields);
    $(`action-${name}-label`).hidden = !(name in fields);
    $(`action-${name}`).required = Boolean(fields[name]);
  }
  formError($('action-error'), '');
  $('action-form').hidden = false;
  $('action-form').scrollIntoView({block: 'nearest'});
  $(fields.reason ? 'action-reason' : 'action-note').focus();
}

async function submitAction(event) {
  event.preventDefault();
  const fields = FORM_FIELDS[pendingAction];
  const values = {};
  for (const name of ['note', 'reason', 'hours']) {
    if (!(name in fields)) continue;
    const value = $(`action-${name}`).value.trim();
    if (fields[name] && !value) {
      formError($('action-error'), `${$(`action-${name}-label`).textContent}?`);
      $(`action-${name}`).focus();
      return;
    }
    if (value) values[name] = value;
  }
  const files = [...$('action-photos').files];
  $('action-form').hidden = true;
  $('action-form').reset();
  await queueAction(pendingAction, values, files);
}

async function queueAction(action, fields, files) {
  const caseId = current.id;
  const afterEvent = currentTimeline.reduce((max, e) => Math.max(max, e.id), 0);
  await outbox.add({kind: 'action', action, caseId, number: current.number, afterEvent,
                    url: `${cfg.urls.cases}${caseId}/${action}/`, fields, files});
  await outbox.flush();
  if (await outbox.count()) toast(T.queued);
}

// --- the outbox ----------------------------------------------------------------------------------------

function showCount(n) {
  const badge = $('queue-badge');
  badge.hidden = n === 0;
  badge.textContent = fmt(T.pending, {n});
  badge.dataset.count = String(n);
}

const outbox = new Outbox({
  userId: cfg.user.id,
  onCount: showCount,
  probeUrl: cfg.urls.categories,
  onSignedOut: () => toast(T.signedOut, true),
  handlers: {
    report: {
      done: (item, body) => { toast(fmt(T.reportSent, {number: body ? body.number : ''})); reloadSoon(); },
      failed: (item, status, body) => {
        toast(fmt(T.reportFailed, {reason: reasonOf(body)}), true);
        restoreReport(item, body);
      },
    },
    action: {
      done: async (item, body, earlier) => {
        toast(earlier ? T.alreadyDone : fmt(T.actionDone, {action: cfg.actions[item.action]}));
        await loadCases().catch(() => {});
        if (current && current.id === item.caseId) await openCase(item.caseId, false).catch(() => {});
      },
      failed: (item, status, body) => {
        toast(fmt(T.actionFailed, {reason: reasonOf(body)}), true);
        reloadSoon();
      },
      // An earlier attempt may have gone through: look for it on the timeline before sending again.
      alreadyDone: async (item) => {
        const timeline = await getJSON(`${cfg.urls.cases}${item.caseId}/timeline/`);
        return timeline.some((e) => e.id > item.afterEvent && e.action === item.action
                                    && e.actor && e.actor.id === cfg.user.id);
      },
    },
    patrol_start: {
      done: rememberPatrol,
      failed: async (item, status, body) => { toast(reasonOf(body), true); await patrol.abandon(); },
    },
    patrol_points: {failed: () => {}},
    patrol_end: {failed: () => {}},
  },
});

// --- patrol ----------------------------------------------------------------------------------------------

const patrol = new Patrol({
  map, outbox, base: cfg.urls.patrols, userId: cfg.user.id,
  onChange: (p) => {
    const toggle = $('patrol-toggle');
    toggle.setAttribute('aria-pressed', String(p.on));
    toggle.textContent = p.on ? T.patrolStop : T.patrolOff;
    toggle.classList.toggle('active', p.on);
    const status = $('patrol-status');
    status.hidden = !p.on;
    if (p.on) status.textContent = `${T.patrolOn} · ${fmt(T.patrolStats, p.stats())}`;
  },
  onError: () => toast(T.patrolNoGps, true),
});
setInterval(() => { if (patrol.on) patrol.onChange(patrol); }, 30000);

// --- grid change notices ---------------------------------------------------------------------------------

const notices = cfg.isWorker ? new Notices({
  url: cfg.urls.notices, texts: T, when,
  nodes: {bell: $('notice-bell'), count: $('notice-count'), list: $('notice-list'), empty: $('notice-empty'),
          readAll: $('notice-read-all')},
  onArrived: async (body) => {
    toast(T.boundaryChanged);
    const results = await Promise.allSettled([redrawGrids(body.grids), loadCases()]);
    if (results.some((r) => r.status === 'rejected')) toast(T.loadFailed, true);
  },
}) : null;

function refreshNotices() {
  if (notices && navigator.onLine) notices.refresh();
}

function openNotices() {
  show('notice-view');
  refreshNotices();
}

// --- live updates ----------------------------------------------------------------------------------------

// An event's JSON data to `handle`; a message that is not JSON is ignored.
function onJson(source, type, handle) {
  source.addEventListener(type, (message) => {
    let data;
    try {
      data = JSON.parse(message.data);
    } catch {
      return;
    }
    handle(data);
  });
}

function listen() {
  if (!window.EventSource) return;
  const source = new EventSource(cfg.urls.live);
  onJson(source, 'case', (data) => {
    const known = cases.some((c) => c.id === data.case_id);
    if (!known && data.action === 'dispatch') toast(fmt(T.newCase, {number: data.number}));
    if (data.action === 'reassign') refreshNotices();  // a boundary change moved a case: its notice is written
    reloadSoon();
  });
  source.addEventListener('reset', reloadSoon);
  // A planner committed new boundaries in a community holding one of my grids: its notice is written (same
  // transaction), and a newer notice redraws my grids and reloads my cases (notices.onArrived).
  onJson(source, 'territory', (data) => {
    if (typeof data.community === 'string' && cfg.grids.some((g) => g.code.startsWith(data.community))) {
      refreshNotices();
    }
  });
  // Back after a break: boundary changes are not replayed (cases are), so the notices are read again.
  let opened = false;
  source.addEventListener('open', () => {
    if (opened) refreshNotices();
    opened = true;
  });
}

// --- network state ---------------------------------------------------------------------------------------

function showNetwork() {
  const state = $('net-state');
  state.textContent = navigator.onLine ? T.online : T.offline;
  state.classList.toggle('offline', !navigator.onLine);
}

window.addEventListener('online', () => { showNetwork(); outbox.flush(); reloadSoon(); refreshNotices(); });
document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') refreshNotices(); });
setInterval(() => { if (document.visibilityState === 'visible') refreshNotices(); }, 60_000);
window.addEventListener('offline', showNetwork);

// --- offline shell -----------------------------------------------------------------------------------

const SHELL_CACHE = 'gridgis-worker-v1';  // the service worker's cache (worker_sw.js)

/* Registers the service worker and stores the page's own files, so that it opens with no network. */
async function keepShell() {
  if (!('serviceWorker' in navigator) || !window.caches) return;
  try {
    await navigator.serviceWorker.register(app.dataset.swUrl);
    const files = [...document.querySelectorAll('script[src], link[rel=stylesheet]')].map((e) => e.src || e.href);
    const modules = ['./worker_queue.js', './worker_patrol.js', './worker_notices.js',
                     '../../vendor/leaflet/images/marker-icon.png', '../../vendor/leaflet/images/marker-shadow.png']
      .map((u) => new URL(u, import.meta.url).href);
    // The first visit read its data before the service worker took over: keep a copy of that too.
    const data = [...fetched].filter((u) => !u.includes('/timeline/'));
    await (await caches.open(SHELL_CACHE)).addAll([location.pathname, ...files, ...modules, ...data]);
    app.dataset.offlineReady = 'true';
  } catch {
    // no service worker (private mode, old browser): the page still works online
  }
}

document.querySelector('.topbar .logout').addEventListener('submit', () => {
  navigator.serviceWorker?.controller?.postMessage('forget');
});

// --- wiring ----------------------------------------------------------------------------------------------

$('list-button').addEventListener('click', () => show('list-view'));
$('report-button').addEventListener('click', openReport);
$('report-back').addEventListener('click', () => show('list-view'));
$('detail-back').addEventListener('click', () => show('list-view'));
$('report-form').addEventListener('submit', submitReport);
$('action-form').addEventListener('submit', submitAction);
$('action-cancel').addEventListener('click', () => { $('action-form').hidden = true; });
$('queue-badge').addEventListener('click', () => outbox.flush());
$('patrol-toggle').addEventListener('click', () => (patrol.on ? patrol.stop() : patrol.start()));
$('patrol-toggle').hidden = !cfg.isWorker;
if (notices) {
  $('notice-bell').addEventListener('click', openNotices);
  $('notice-back').addEventListener('click', () => show('list-view'));
  $('notice-read-all').addEventListener('click', () => notices.markAll());
}
for (const button of document.querySelectorAll('.case-action')) {
  button.addEventListener('click', () => chooseAction(button.dataset.action));
}

async function main() {
  showNetwork();
  const loads = [loadCategories(), loadCases(), loadTerritory(), notices?.refresh()];
  const results = await Promise.allSettled(loads);
  if (results.some((r) => r.status === 'rejected')) toast(T.loadFailed, true);
  await outbox.count();
  await patrol.resume();
  listen();
  app.dataset.ready = 'true';
  outbox.flush();
  keepShell();
}

main();
