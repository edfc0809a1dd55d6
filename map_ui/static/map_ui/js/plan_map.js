/* The planner's map: community outline, grids coloured by households against the target range, buildings,
 * labels, and the preview overlays. Editing itself (Geoman) is driven from plan.js. */
/* global L */

import {el, fill, number} from './plan_dom.js';

export const COLOURS = {
  below: '#f4d27a',
  within: '#94d3a2',
  above: '#f09a8a',
  unknown: '#c9d3df',
};

export function band(households, target) {
  if (!target || households === null || households === undefined) return 'unknown';
  if (households < target.min_households) return 'below';
  if (households > target.max_households) return 'above';
  return 'within';
}

function primaryWorker(workers) {
  if (!workers?.length) return null;
  return workers.find((worker) => worker.role === 'primary') ?? workers[0];
}

export class PlanMap {
  constructor(element, text) {
    this.element = element;
    this.text = text;
    this.target = null;
    this.selected = new Set();
    this.onGridClick = () => {};
    this.onCommunityClick = () => {};
    this.plainGround = element.classList.contains('basemap-none');

    const map = L.map(element, {zoomControl: false, minZoom: 4, maxZoom: 20});
    this.map = map;
    L.control.zoom({position: 'topright'}).addTo(map);
    L.control.scale({imperial: false, position: 'bottomright'}).addTo(map);
    map.attributionControl.setPrefix('Leaflet');
    map.createPane('preview').style.zIndex = 460;
    map.createPane('outline').style.zIndex = 455;
    map.getPane('outline').style.pointerEvents = 'none';
    map.getPane('preview').style.pointerEvents = 'none';
    map.createPane('buildings').style.zIndex = 430;
    // Every community in scope, under the grids: where to start on a district of 88 communities, and the
    // neighbours around the one being edited (click one to switch). Never snapped to, never edited.
    map.createPane('overview').style.zIndex = 350;
    map.getPane('buildings').style.pointerEvents = 'none';

    // Grids and buildings stay snappable (Geoman snaps to every vector layer not marked snapIgnore), so an
    // edited outline can land exactly on a neighbour's vertex or a building's corner.
    this.grids = L.geoJSON(null, {style: (feature) => this.gridStyle(feature), onEachFeature: (f, l) => this.bindGrid(f, l)});
    this.buildings = L.geoJSON(null, {
      pane: 'buildings', interactive: false, style: () => this.buildingStyle(), pmIgnore: true, snapIgnore: false,
    });
    this.outline = L.geoJSON(null, {
      pane: 'outline', interactive: false, pmIgnore: true, snapIgnore: false,
      style: {color: '#1d4e89', weight: 2.5, fill: false, dashArray: '7 5'},
    });
    this.preview = L.layerGroup([], {pane: 'preview'});
    this.current = null;
    this.overview = L.geoJSON(null, {
      pane: 'overview', pmIgnore: true, snapIgnore: true, style: (feature) => this.overviewStyle(feature),
      onEachFeature: (feature, layer) => {
        const properties = feature.properties;
        layer.bindTooltip(`${properties.name ?? ''} · ${properties.code}`, {sticky: true, className: 'community-tip'});
        layer.on('click', (event) => {
          if (properties.code === this.current) return;  // its grids (and the create tool) own that area
          L.DomEvent.stopPropagation(event);
          this.onCommunityClick(properties.code);
        });
      },
    });
    this.overview.addTo(map);
    for (const layer of [this.grids, this.buildings, this.outline, this.preview]) layer.addTo(map);

    this.addTiles(JSON.parse(element.dataset.tileLayers || '[]'));
    map.setView([35, 105], 4);
  }

  addTiles(specs) {
    for (const spec of specs) {
      const layer = L.tileLayer(spec.url, {subdomains: spec.subdomains || 'abc', attribution: spec.attribution, maxZoom: 20});
      let loaded = 0;
      let failed = 0;
      layer.on('tileload', () => { loaded += 1; });
      layer.on('tileerror', () => {
        failed += 1;
        if (failed >= 4 && loaded === 0 && !this.element.classList.contains('tiles-failed')) {
          this.element.classList.add('tiles-failed');
          this.plainGround = true;
          this.grids.setStyle((feature) => this.gridStyle(feature));
        }
      });
      layer.addTo(this.map);
    }
  }

  gridStyle(feature) {
    const code = feature.properties.code;
    const chosen = this.selected.has(code);
    return {
      color: chosen ? '#c2410c' : '#42556e',
      weight: chosen ? 3.5 : 1.2,
      fillColor: COLOURS[band(feature.properties.households, this.target)],
      fillOpacity: this.plainGround ? 0.75 : 0.45,
    };
  }

  overviewStyle(feature) {
    const current = feature.properties.code === this.current;
    return {
      color: current ? '#1d4e89' : '#5b7190', weight: current ? 0 : 1.2, fillColor: '#dbe5f1',
      fillOpacity: current ? 0 : (this.current ? 0.35 : 0.6),
    };
  }

  showOverview(features) {
    this.overview.clearLayers();
    this.overview.addData({type: 'FeatureCollection', features});
  }

  overviewClickable(on) {
    this.map.getPane('overview').style.pointerEvents = on ? '' : 'none';
  }

  markCurrent(code) {
    this.current = code;
    this.overview.setStyle((feature) => this.overviewStyle(feature));
  }

  fitOverview() {
    const bounds = this.overview.getBounds();
    if (bounds.isValid()) this.map.fitBounds(bounds, {paddingTopLeft: [360, 20], paddingBottomRight: [20, 20]});
  }

  buildingStyle() {
    return {color: '#6d5a40', weight: 0.7, fillColor: '#e3d3b6', fillOpacity: 0.95};
  }

  label(properties) {
    const node = el('span', null, 'grid-label');
    node.append(el('span', properties.seq ? String(properties.seq).padStart(3, '0') : properties.code?.slice(-3), 'seq'));
    node.append(el('span', `${number(properties.households)} ${this.text.households}`, 'hh'));
    const worker = primaryWorker(properties.workers);
    node.append(el('span', worker ? worker.name : this.text.noWorker, 'worker'));
    if (properties.open_cases) node.append(el('span', fill(this.text.openCases, {n: properties.open_cases}), 'cases'));
    node.title = properties.code ?? '';
    return node;
  }

  bindGrid(feature, layer) {
    layer.bindTooltip(this.label(feature.properties), {
      permanent: true, direction: 'center', interactive: false, className: 'grid-tip',
    });
    layer.on('click', (event) => {
      L.DomEvent.stopPropagation(event);
      this.onGridClick(feature.properties.code, layer);
    });
  }

  show(plan) {
    this.target = plan.target;
    this.selected.clear();
    this.clearPreview();
    this.outline.clearLayers();
    this.outline.addData(plan.community.geometry);
    this.grids.clearLayers();
    this.grids.addData(plan.grids);
    this.buildings.clearLayers();
    this.buildings.addData(plan.buildings);
    this.buildingLayers = new Map();
    this.buildings.eachLayer((layer) => {
      this.buildingLayers.set(String(layer.feature.properties.id), layer);
    });
  }

  fit() {
    const bounds = this.outline.getBounds();
    if (bounds.isValid()) this.map.fitBounds(bounds, {paddingTopLeft: [360, 20], paddingBottomRight: [400, 20]});
  }

  gridLayer(code) {
    return this.grids.getLayers().find((layer) => layer.feature.properties.code === code) ?? null;
  }

  gridCodes() {
    return this.grids.getLayers().map((layer) => layer.feature.properties.code);
  }

  setSelected(codes) {
    this.selected = new Set(codes);
    this.grids.setStyle((feature) => this.gridStyle(feature));
  }

  // --- preview overlays ---------------------------------------------------------------------------

  clearPreview() {
    this.preview.clearLayers();
    this.grids.setStyle((feature) => this.gridStyle(feature));
    for (const layer of this.buildingLayers?.values() ?? []) {
      this.buildings.resetStyle(layer);
      layer.getElement()?.classList.remove('building-moved');
    }
    this.element.classList.remove('previewing');
  }

  showPreview(result) {
    this.clearPreview();
    this.element.classList.add('previewing');
    const rows = new Map((result.impact?.grids ?? []).map((row) => [row.code, row]));
    // The grids as they are fade to outlines; the grids as they would be take their colours.
    this.grids.setStyle({fillOpacity: 0.05, color: '#7a8aa0', weight: 1, dashArray: '3 4'});
    const after = L.geoJSON(result.grids_after, {
      pane: 'preview', interactive: false, pmIgnore: true, snapIgnore: true,
      style: (feature) => {
        const row = rows.get(feature.properties.code);
        const households = row?.households_after ?? feature.properties.households;
        const fillColor = COLOURS[band(households, this.target)];
        const fillOpacity = this.plainGround ? 0.6 : 0.4;
        if (row?.status === 'new') return {color: '#0f766e', weight: 3.5, fillColor, fillOpacity, className: 'after-new'};
        if (row?.status === 'changed') return {color: '#c2410c', weight: 3, fillColor, fillOpacity, className: 'after-changed'};
        return {color: '#42556e', weight: 1, fillColor, fillOpacity, className: 'after-same'};
      },
    });
    this.preview.addLayer(after);
    // The grids as they would be carry the labels: sequence, households after the edit, what happens.
    after.eachLayer((layer) => {
      const {code, households} = layer.feature.properties;
      const row = rows.get(code);
      this.previewLabel(layer.getCenter(), code, row?.households_after ?? households, row?.status);
    });
    // Retired grids: their old outline hatched in red.
    for (const row of result.impact?.grids ?? []) {
      const layer = row.status === 'retired' ? this.gridLayer(row.code) : null;
      if (!layer) continue;
      this.preview.addLayer(L.geoJSON(layer.toGeoJSON(), {
        pane: 'preview', interactive: false, pmIgnore: true, snapIgnore: true,
        style: {color: '#b91c1c', weight: 2.5, dashArray: '3 5', fillColor: '#b91c1c', fillOpacity: 0.15, className: 'retired'},
      }));
      this.previewLabel(layer.getCenter(), row.code, null, 'retired');
    }
    // Leaflet applies className only when a path is created: mark the moved buildings' paths directly.
    for (const moved of result.impact?.buildings_moved ?? []) {
      const layer = this.buildingLayers?.get(String(moved.id));
      if (!layer) continue;
      layer.setStyle({color: '#86198f', weight: 2, fillColor: '#e879f9', fillOpacity: 1});
      layer.getElement()?.classList.add('building-moved');
    }
  }

  previewLabel(latlng, code, households, status) {
    const node = el('span', null, `grid-label after status-${status ?? 'same'}`);
    node.append(el('span', code?.slice(-3), 'seq'));
    if (households !== null && households !== undefined) {
      node.append(el('span', `${number(households)} ${this.text.households}`, 'hh'));
    }
    if (this.text[`status_${status}`]) node.append(el('span', this.text[`status_${status}`], 'state'));
    const tip = L.tooltip({permanent: true, direction: 'center', interactive: false, className: 'grid-tip after-tip'});
    this.preview.addLayer(tip.setLatLng(latlng).setContent(node));
  }

  markSpots(points) {
    for (const point of points) {
      const [lng, lat] = point.coordinates;
      const marker = L.circleMarker([lat, lng], {
        pane: 'preview', radius: 9, color: '#b91c1c', weight: 3, fillColor: '#fecaca', fillOpacity: 0.9,
        pmIgnore: true, snapIgnore: true, className: 'error-spot',
      });
      marker.bindTooltip(el('span', this.text.spot), {permanent: true, direction: 'top', className: 'spot-tip'});
      this.preview.addLayer(marker);
    }
    if (points.length === 1) {
      const [lng, lat] = points[0].coordinates;
      this.map.panTo([lat, lng]);
    }
  }
}
