/* The phone page's outbox: every submission (a report, a workflow step, a patrol's start, points or end) is
 * first stored in IndexedDB (photos as Blobs) with an Idempotency-Key made once, then sent in order. A
 * network failure leaves it queued for the `online` event or the next page load; the retry carries the
 * SAME key, so the server files a report once however often it is sent.
 *
 * Workflow steps: the server does not read Idempotency-Key there, but a step applied twice mostly fails as
 * 409 (the status moved on). A step whose earlier attempt may have reached the server is first looked for
 * in the case's timeline (an entry of that action by this user after the one last seen), and not resent. */

const DB_NAME = 'gridgis-worker';
const OUTBOX = 'outbox';
const META = 'meta';
const RETRY_FIRST_MS = 3000;
const RETRY_MAX_MS = 60000;

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

let dbPromise = null;
function db() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const open = indexedDB.open(DB_NAME, 1);
      open.onupgradeneeded = () => {
        open.result.createObjectStore(OUTBOX, {keyPath: 'seq', autoIncrement: true});
        open.result.createObjectStore(META);
      };
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
  }
  return dbPromise;
}

async function store(name, mode = 'readonly') {
  return (await db()).transaction(name, mode).objectStore(name);
}

export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : '';
}

export async function getMeta(key) {
  return request((await store(META)).get(key));
}

export async function setMeta(key, value) {
  return request((await store(META, 'readwrite')).put(value, key));
}

export class Outbox {
  /* userId: only this user's items are sent (a shared phone keeps each user's own).
   * handlers: {kind: {done(item, body), failed(item, status, body)}}; onCount(n) after every change.
   * probeUrl: a GET that needs a session, to tell "signed out" from "refused"; onSignedOut() then. */
  constructor({userId, handlers, onCount, probeUrl, onSignedOut}) {
    this.userId = userId;
    this.handlers = handlers;
    this.onCount = onCount || (() => {});
    this.probeUrl = probeUrl;
    this.onSignedOut = onSignedOut || (() => {});
    this.flushing = null;
    this.again = false;
    this.retryTimer = null;
    this.backoff = RETRY_FIRST_MS;
  }

  async items() {
    const all = await request((await store(OUTBOX)).getAll());
    return all.filter((item) => item.userId === this.userId).sort((a, b) => a.seq - b.seq);
  }

  async count() {
    const n = (await this.items()).length;
    this.onCount(n);
    return n;
  }

  /* item: {kind, url (or patrolLocal + path), method, json | fields + files, ...}; returns the stored item. */
  async add(item) {
    const stored = {...item, key: uuid(), userId: this.userId, created: Date.now(), attempts: 0};
    stored.seq = await request((await store(OUTBOX, 'readwrite')).add(stored));
    await this.count();
    return stored;
  }

  async remove(item) {
    await request((await store(OUTBOX, 'readwrite')).delete(item.seq));
  }

  async update(item) {
    await request((await store(OUTBOX, 'readwrite')).put(item));
  }

  /* Sends what is queued, oldest first; stops at the first network failure. One flush at a time. */
  flush() {
    if (this.flushing) {
      this.again = true;
      return this.flushing;
    }
    this.flushing = (async () => {
      try {
        do {
          this.again = false;
          // One sender across the page's tabs: two tabs must not send the same step at once.
          if (navigator.locks) await navigator.locks.request('gridgis-outbox', () => this.sendAll());
          else await this.sendAll();
        } while (this.again);
      } finally {
        this.flushing = null;
        await this.count();
      }
    })();
    return this.flushing;
  }

  async sendAll() {
    if (!navigator.onLine) return;  // the `online` event flushes again
    for (const item of await this.items()) {
      const outcome = await this.send(item);
      if (outcome === 'retry') {
        this.retryLater();
        return;
      }
      if (outcome === 'signed-out') return;  // kept; sent after the next login
    }
    this.backoff = RETRY_FIRST_MS;
  }

  /* Online but the server did not answer (a dead zone, a server restart): try again, less and less often. */
  retryLater() {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.flush(), this.backoff);
    this.backoff = Math.min(this.backoff * 2, RETRY_MAX_MS);
  }

  async resolveUrl(item) {
    if (!item.patrolLocal) return item.url;
    const id = await getMeta(`patrol:${item.patrolLocal}`);
    return id ? `${item.base}${id}/${item.path}` : null;
  }

  async send(item) {
    const url = await this.resolveUrl(item);
    const handler = this.handlers[item.kind] || {};
    if (url === null) {  // the patrol it belongs to never started on the server: nothing to attach it to
      await this.remove(item);
      return 'dropped';
    }
    if (item.attempts > 0 && item.afterEvent !== undefined && handler.alreadyDone) {
      try {
        if (await handler.alreadyDone(item)) {
          await this.remove(item);
          await handler.done?.(item, null, true);
          return 'done';
        }
      } catch {
        return 'retry';
      }
    }
    item.attempts += 1;
    await this.update(item);
    let response;
    try {
      response = await fetch(url, this.init(item));
    } catch {
      return 'retry';
    }
    if (response.status >= 500 || response.status === 429) return 'retry';
    if ((response.status === 401 || response.status === 403) && await this.signedOut()) {
      this.onSignedOut();
      return 'signed-out';
    }
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    await this.remove(item);
    if (response.ok) await handler.done?.(item, body, false);
    else await handler.failed?.(item, response.status, body);
    return response.ok ? 'done' : 'failed';
  }

  /* A 401/403 is a refusal of this item, unless the session itself is gone (expired, logged out elsewhere):
   * then nothing is dropped. */
  async signedOut() {
    if (!this.probeUrl) return false;
    try {
      const probe = await fetch(this.probeUrl, {credentials: 'same-origin', headers: {Accept: 'application/json'}});
      return probe.status === 401 || probe.status === 403;
    } catch {
      return false;
    }
  }

  init(item) {
    const headers = {'Idempotency-Key': item.key, 'X-CSRFToken': csrfToken(), Accept: 'application/json'};
    let body;
    if (item.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(item.json);
    } else {
      body = new FormData();
      for (const [name, value] of Object.entries(item.fields || {})) body.append(name, value);
      for (const file of item.files || []) body.append('photos', file, file.name || 'photo.jpg');
    }
    return {method: item.method || 'POST', headers, body, credentials: 'same-origin'};
  }
}
