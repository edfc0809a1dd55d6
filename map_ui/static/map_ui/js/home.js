/* The territory map (/): districts → streets → communities → grids from the territory API, buildings by
 * bbox once zoomed in. Configuration comes from data- attributes on #territory-map. Text from the data
 * reaches the DOM only through textContent (names may hold anything, "<img onerror=…>" included). */
/* global L */

import {escapeHtml, textNode} from './dom.js';

const mapEl = document.getElementById('territory-map');
const cfg = mapEl.dataset;
const statusEl = document.getElementById('map-status');
const cardEl = document.getElementById('grid-card');

const LEVELS = ['district', 'street', 'community', 'grid'];
const URLS = {
  district: cfg.districtsUrl,
  street: cfg.streetsUrl,
  community: cfg.communitiesUrl,
  grid: cfg.gridsUrl,
};
const BUILDING_MIN_ZOOM = Number(cfg.buildingMinZoom);
const BUILDING_PAGE_SIZE = 2000;
const BUILDING_MAX_PAGES = 3;
// Without tiles (none configured, or none reachable) the polygons are drawn opaque on a plain ground.
let plainGround = mapEl.classList.contains('basemap-none');

function setStatus(message, isError = false) {
  statusEl.textContent = message;
  statusEl.classList.toggle('error', isError);
}

let buildingsTruncated = false;

// After a load: say what the map shows, or what zooming in would add.
function showReady() {
  if (map.getZoom() < BUILDING_MIN_ZOOM) setStatus(cfg.textBuildingsHint);
  else setStatus(buildingsTruncated ? cfg.textBuildingsTruncated : cfg.textLoaded);
}

async function getJSON(url, signal) {
  const response = await fetch(url, {headers: {Accept: 'application/json'}, credentials: 'same-origin', signal});
  if (!response.ok) throw new Error(`${response.status} ${url}`);
  return response.json();
}

// Geometry detail follows the zoom: the API simplifies to half a screen pixel of the tier asked for.
function tierFor(zoom) {
  return Math.max(8, Math.min(18, Math.round(zoom)));
}

function toleranceFor(tier) {
  return (180 / (256 * 2 ** tier)).toPrecision(2);
}

// Each community's grids share a soft colour, so the patchwork shows the hierarchy at a glance.
function hueOf(code) {
  let hash = 2166136261; // FNV-1a: neighbouring codes still land on distant hues
  for (const ch of code ?? '') hash = Math.imul(hash ^ ch.charCodeAt(0), 16777619);
  return (hash >>> 0) % 360;
}

const STYLES = {
  district: {color: '#0b2545', weight: 3.5, fill: false},
  street: {color: '#1d4e89', weight: 2.4, fill: false},
  community: {color: '#3d6f9e', weight: 1.3, fill: false, dashArray: '5 4'},
  building: {color: '#7d6a4f', weight: 0.6, fillColor: '#d8c7a8', fillOpacity: 0.9},
  selected: {color: '#c2410c', weight: 3, fillOpacity: 0.75},
};

function gridStyle(feature) {
  return {
    color: '#7a96b3',
    weight: 0.8,
    fillColor: `hsl(${hueOf(feature.properties.community_code)} 55% 80%)`,
    fillOpacity: plainGround ? 0.7 : 0.3,
  };
}

function groundStyle() {
  return {stroke: false, fillColor: '#fbfcfd', fillOpacity: plainGround ? 1 : 0};
}

const map = L.map(mapEl, {zoomControl: false, minZoom: 4, maxZoom: 19});
L.control.zoom({position: 'topright'}).addTo(map);
L.control.scale({imperial: false, position: 'bottomright'}).addTo(map);
map.attributionControl.setPrefix('Leaflet');
map.createPane('ground').style.zIndex = 350;
map.createPane('buildings').style.zIndex = 420;
map.createPane('outlines').style.zIndex = 450;
// Panes above the grids let clicks through to them, except on their own interactive shapes.
map.getPane('outlines').style.pointerEvents = 'none';
map.getPane('buildings').style.pointerEvents = 'none';

addTileLayers(JSON.parse(cfg.tileLayers || '[]'));

// With no base map, the district itself is the paper the map is drawn on.
const ground = L.geoJSON(null, {pane: 'ground', interactive: false, style: groundStyle}).addTo(map);
const layers = {
  grid: L.geoJSON(null, {style: gridStyle, onEachFeature: bindGrid}).addTo(map),
  community: L.geoJSON(null, {pane: 'outlines', interactive: false, style: STYLES.community}).addTo(map),
  street: L.geoJSON(null, {pane: 'outlines', interactive: false, style: STYLES.street}).addTo(map),
  district: L.geoJSON(null, {pane: 'outlines', interactive: false, style: STYLES.district}).addTo(map),
};
const buildings = L.geoJSON(null, {pane: 'buildings', style: STYLES.building, onEachFeature: bindBuilding}).addTo(map);
const labels = L.layerGroup().addTo(map);

L.control.layers(null, {
  [escapeHtml(cfg.textDistricts)]: layers.district,
  [escapeHtml(cfg.textStreets)]: layers.street,
  [escapeHtml(cfg.textCommunities)]: layers.community,
  [escapeHtml(cfg.textGrids)]: layers.grid,
  [escapeHtml(cfg.textBuildings)]: buildings,
}, {position: 'topright'}).addTo(map);

function addTileLayers(specs) {
  let loadedTiles = 0;
  let failedTiles = 0;
  for (const spec of specs) {
    const layer = L.tileLayer(spec.url, {subdomains: spec.subdomains || 'abc', attribution: spec.attribution, maxZoom: 19});
    layer.on('tileload', () => { loadedTiles += 1; });
    // Unreachable tiles: hide the broken tile pane and keep the plain, intended background.
    layer.on('tileerror', () => {
      failedTiles += 1;
      if (failedTiles >= 4 && loadedTiles === 0 && !mapEl.classList.contains('tiles-failed')) {
        mapEl.classList.add('tiles-failed');
        document.getElementById('basemap-notice').hidden = false;
        plainGround = true;
        ground.resetStyle();
        highlightSelected();
      }
    });
    layer.addTo(map);
  }
}

function hoverTip(title, code) {
  const tip = textNode('span', title);
  tip.append(textNode('span', code, 'code'));
  return tip;
}

function bindGrid(feature, layer) {
  const {name, code} = feature.properties;
  layer.bindTooltip(() => hoverTip(name, code), {sticky: true, className: 'hover-tip'});
  layer.on('click', () => selectGrid(code));
}

function bindBuilding(feature, layer) {
  const {address, name, code} = feature.properties;
  layer.bindTooltip(() => hoverTip(name || address, code), {sticky: true, className: 'hover-tip'});
  if (feature.properties.grid_code) layer.on('click', () => selectGrid(feature.properties.grid_code));
}

// --- territory polygons ---------------------------------------------------------------------------

// Holes smaller than the coverage tolerance are digitising slivers (the coverage check ignores them too),
// and holes of a pixel or two cannot be seen as holes: under a thick outline either would draw as a dark
// dot or dash. Dropped for display only, from the outline levels only; the data keeps them.
const SLIVER_M2 = Number(cfg.sliverM2);
const EARTH_CIRCUMFERENCE_M = 40075016.686;

function isSliver(ring, tier) {
  let twice = 0;
  for (let i = 1; i < ring.length; i += 1) {
    twice += ring[i - 1][0] * ring[i][1] - ring[i][0] * ring[i - 1][1];
  }
  const coslat = Math.cos((ring[0][1] * Math.PI) / 180);
  const metresPerDegree = EARTH_CIRCUMFERENCE_M / 360;
  const areaM2 = (Math.abs(twice) / 2) * metresPerDegree ** 2 * coslat;
  const pixelM = (EARTH_CIRCUMFERENCE_M * coslat) / (256 * 2 ** tier);
  return areaM2 < Math.max(SLIVER_M2, 2 * pixelM ** 2);
}

function withoutSlivers(collection, tier) {
  for (const feature of collection.features) {
    const geometry = feature.geometry;
    if (geometry?.type !== 'MultiPolygon') continue;
    geometry.coordinates = geometry.coordinates.map(
      ([outer, ...holes]) => [outer, ...holes.filter((ring) => !isSliver(ring, tier))],
    );
  }
  return collection;
}

let loadedTier = -1;
let territoryRequest = null;

async function loadTerritory(tier) {
  territoryRequest?.abort();
  const request = new AbortController();
  territoryRequest = request;
  setStatus(cfg.textLoading);
  const simplify = toleranceFor(tier);
  try {
    const collections = await Promise.all(
      LEVELS.map((level) => getJSON(`${URLS[level]}?simplify=${simplify}`, request.signal)),
    );
    LEVELS.forEach((level, i) => {
      layers[level].clearLayers();
      layers[level].addData(level === 'grid' ? collections[i] : withoutSlivers(collections[i], tier));
    });
    ground.clearLayers();
    ground.addData(collections[0]);
    loadedTier = tier;
    highlightSelected();
    return true;
  } catch (error) {
    if (error.name !== 'AbortError') setStatus(cfg.textFailed, true);
    return false;
  }
}

function fitTerritory() {
  // A grid worker sees their grid and its ancestors' outlines: frame the grids, not the whole district.
  for (const layer of [layers.grid, layers.community, layers.street, layers.district]) {
    const bounds = layer.getBounds();
    if (bounds.isValid()) {
      map.fitBounds(bounds, {paddingTopLeft: [mapEl.clientWidth > 640 ? 320 : 0, 0], maxZoom: 17});
      return;
    }
  }
  map.setView([35, 105], 4);
}

// --- labels: streets when zoomed out, communities in between, grids when zoomed in -----------------

function labelLevel(zoom) {
  if (zoom >= 15) return 'grid';
  if (zoom >= 13) return 'community';
  return 'street';
}

function updateLabels() {
  labels.clearLayers();
  const level = labelLevel(map.getZoom());
  if (!map.hasLayer(layers[level])) return;
  const view = map.getBounds();
  layers[level].eachLayer((layer) => {
    if (!map.hasLayer(layer)) return; // still being added (the layer control reports groups early)
    const center = layer.getCenter();
    if (!view.contains(center)) return;
    const label = L.tooltip({permanent: true, direction: 'center', interactive: false, className: `map-label level-${level}`});
    labels.addLayer(label.setLatLng(center).setContent(textNode('span', layer.feature.properties.name)));
  });
}

// --- buildings, fetched by bbox as the map moves ----------------------------------------------------

let buildingRequest = null;

function bboxParam(bounds) {
  const clamp = (value, limit) => Math.max(-limit, Math.min(limit, value)).toFixed(6);
  return [
    clamp(bounds.getWest(), 180), clamp(bounds.getSouth(), 90), clamp(bounds.getEast(), 180), clamp(bounds.getNorth(), 90),
  ].join(',');
}

async function loadBuildings() {
  buildingRequest?.abort();
  if (map.getZoom() < BUILDING_MIN_ZOOM) {
    buildings.clearLayers();
    return;
  }
  const request = new AbortController();
  buildingRequest = request;
  let url = `${cfg.buildingsUrl}?in_bbox=${bboxParam(map.getBounds().pad(0.15))}&page_size=${BUILDING_PAGE_SIZE}`;
  const features = [];
  try {
    for (let page = 0; url && page < BUILDING_MAX_PAGES; page += 1) {
      const data = await getJSON(url, request.signal);
      features.push(...data.features);
      url = data.next;
    }
  } catch (error) {
    if (error.name !== 'AbortError') setStatus(cfg.textFailed, true);
    return;
  }
  buildings.clearLayers();
  buildings.addData({type: 'FeatureCollection', features});
  buildingsTruncated = Boolean(url);
  showReady();
}

// --- the selected grid and its card ----------------------------------------------------------------

let selectedCode = null;

function highlightSelected() {
  layers.grid.eachLayer((layer) => {
    if (layer.feature.properties.code === selectedCode) {
      layer.setStyle(STYLES.selected);
      layer.bringToFront();
    } else {
      layers.grid.resetStyle(layer);
    }
  });
}

function fillCard(properties) {
  for (const field of cardEl.querySelectorAll('[data-field]')) {
    const name = field.dataset.field;
    if (name === 'workers') continue;
    field.textContent = properties[name] ?? '';
  }
  const list = cardEl.querySelector('[data-field="workers"]');
  list.replaceChildren();
  for (const worker of properties.workers ?? []) {
    const item = textNode('li', worker.name);
    item.append(textNode('span', worker.role_label, 'role'));
    list.append(item);
  }
  if (!list.children.length) list.append(textNode('li', cfg.textNoWorkers));
  cardEl.hidden = false;
}

async function selectGrid(code) {
  selectedCode = code;
  highlightSelected();
  const layer = layers.grid.getLayers().find((item) => item.feature.properties.code === code);
  if (layer) fillCard(layer.feature.properties);
  try {
    const detail = await getJSON(`${cfg.gridsUrl}${encodeURIComponent(code)}/`);
    if (selectedCode === code) fillCard(detail.properties);
  } catch {
    setStatus(cfg.textFailed, true);
  }
}

// --- the side panel's street list ------------------------------------------------------------------

for (const button of document.querySelectorAll('.street-list [data-code]')) {
  button.addEventListener('click', () => {
    const street = layers.street.getLayers().find((layer) => layer.feature.properties.code === button.dataset.code);
    if (street) map.fitBounds(street.getBounds(), {paddingTopLeft: [mapEl.clientWidth > 640 ? 320 : 0, 0]});
  });
}

// --- wiring ------------------------------------------------------------------------------------------

let moveTimer = null;
map.on('moveend', () => {
  clearTimeout(moveTimer);
  moveTimer = setTimeout(() => {
    updateLabels();
    loadBuildings();
  }, 150);
});
map.on('zoomend', () => {
  const tier = tierFor(map.getZoom());
  if (loadedTier >= 0 && tier > loadedTier) {
    loadTerritory(tier).then((ok) => {
      if (!ok) return;
      updateLabels();
      showReady();
    });
  }
});
map.on('overlayadd overlayremove', updateLabels);

if (await loadTerritory(12)) {
  fitTerritory();
  showReady();
  mapEl.dataset.ready = 'true';
} else {
  map.setView([35, 105], 4);
}
