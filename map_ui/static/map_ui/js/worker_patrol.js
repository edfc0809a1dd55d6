/* Patrol mode: while on, the GPS track is recorded (watchPosition), filtered as the server filters it (fixes
 * worse than 50 m, jumps faster than 120 km/h, points out of time order are dropped) and sent in batches
 * every ~15 s through the outbox, so a patrol in a basement or a dead zone is sent when the network is back.
 * The patrol's server id may not exist yet (started offline): items name it by a local id the outbox maps. */
/* global L */
import {getMeta, setMeta, uuid} from './worker_queue.js';

const MAX_ACCURACY_M = 50;
const MAX_SPEED_KMH = 120;
const BATCH_MS = 15000;
const STATE_KEY = 'patrol-state';

export function metres(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.sqrt(h));
}

export class Patrol {
  constructor({map, outbox, base, userId, onChange, onError}) {
    this.map = map;
    this.outbox = outbox;
    this.base = base;
    this.stateKey = `${STATE_KEY}:${userId}`;
    this.onChange = onChange;
    this.onError = onError;
    this.state = null;  // {local, startedAt, last, distance}
    this.buffer = [];
    this.watch = null;
    this.timer = null;
    this.line = L.polyline([], {color: '#7c3aed', weight: 4, opacity: 0.85, interactive: false});
  }

  get on() {
    return this.state !== null;
  }

  async resume() {
    const saved = await getMeta(this.stateKey);
    if (saved) {
      this.state = saved;
      this.run();
    }
    this.onChange(this);
  }

  async start() {
    if (this.on) return;
    const local = uuid();
    const startedAt = new Date().toISOString();
    this.state = {local, startedAt, last: null, distance: 0, points: []};
    await setMeta(this.stateKey, this.state);
    await this.outbox.add({kind: 'patrol_start', url: this.base, json: {started_at: startedAt}, local});
    this.outbox.flush();
    this.run();
    this.onChange(this);
  }

  async stop() {
    if (!this.on) return;
    const {local} = this.state;
    this.halt();
    await this.sendBatch();
    await this.outbox.add({kind: 'patrol_end', patrolLocal: local, base: this.base, path: 'end/',
                           json: {at: new Date().toISOString()}});
    this.state = null;
    await setMeta(this.stateKey, null);
    this.line.setLatLngs([]);
    this.line.remove();
    this.outbox.flush();
    this.onChange(this);
  }

  /* The server refused to start it (not a grid worker): forget it here too. */
  async abandon() {
    this.halt();
    this.buffer = [];
    this.state = null;
    await setMeta(this.stateKey, null);
    this.line.remove();
    this.onChange(this);
  }

  run() {
    this.line.setLatLngs((this.state.points || []).map((p) => [p.lat, p.lon]));
    this.line.addTo(this.map);
    if (!navigator.geolocation) {
      this.onError();
      this.stop();
      return;
    }
    this.watch = navigator.geolocation.watchPosition(
      (position) => this.fix(position), (error) => this.lost(error),
      {enableHighAccuracy: true, maximumAge: 0, timeout: 30000},
    );
    this.timer = setInterval(() => this.sendBatch(), BATCH_MS);
  }

  /* No fix this time (a basement, a timeout): say so and keep listening. Location refused: nothing can ever
   * be recorded, so the patrol ends at once instead of showing "巡查中" over an empty track. */
  lost(error) {
    this.onError();
    if (error?.code === error?.PERMISSION_DENIED) this.stop();
  }

  halt() {
    if (this.watch !== null) navigator.geolocation.clearWatch(this.watch);
    clearInterval(this.timer);
    this.watch = null;
    this.timer = null;
  }

  fix(position) {
    if (!this.state) return;
    const {longitude: lon, latitude: lat, accuracy} = position.coords;
    const point = {lon, lat, t: position.timestamp, accuracy};
    const last = this.state.last;
    if (accuracy > MAX_ACCURACY_M) return;
    if (last) {
      if (point.t <= last.t) return;
      const step = metres(last, point);
      if (step / ((point.t - last.t) / 1000) * 3.6 > MAX_SPEED_KMH) return;
      this.state.distance += step;
    }
    this.state.last = point;
    this.state.points = [...(this.state.points || []), {lon, lat}].slice(-2000);
    this.buffer.push(point);
    this.line.addLatLng([lat, lon]);
    setMeta(this.stateKey, this.state);
    this.onChange(this);
  }

  async sendBatch() {
    if (!this.state || this.buffer.length === 0) return;
    const points = this.buffer.map((p) => ({lon: p.lon, lat: p.lat, t: p.t, accuracy: p.accuracy}));
    this.buffer = [];
    await this.outbox.add({kind: 'patrol_points', patrolLocal: this.state.local, base: this.base,
                           path: 'points/', json: {points}});
    this.outbox.flush();
  }

  stats() {
    if (!this.state) return null;
    const minutes = Math.max(0, Math.round((Date.now() - Date.parse(this.state.startedAt)) / 60000));
    return {km: (this.state.distance / 1000).toFixed(2), min: minutes};
  }
}

/* What the outbox does with a patrol's start once the server answers: remember its id for the batches. */
export async function rememberPatrol(item, body) {
  if (item.local && body && body.id) await setMeta(`patrol:${item.local}`, body.id);
}
