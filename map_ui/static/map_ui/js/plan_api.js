/* The planning API (/api/v1/communities/{code}/…) and the territory's community list. Every call resolves
 * to {ok, status, body}; the caller decides what a 400 or a 409 means to the planner. */

export class PlanApi {
  constructor({root, csrfToken}) {
    this.root = root;
    this.csrfToken = csrfToken;
  }

  url(code, path) {
    return `${this.root}${encodeURIComponent(code)}/${path}`;
  }

  async request(url, {method = 'GET', body, signal} = {}) {
    const headers = {Accept: 'application/json'};
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['X-CSRFToken'] = this.csrfToken;
    }
    const response = await fetch(url, {
      method, headers, signal, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    if ((response.headers.get('Content-Type') || '').includes('json')) {
      try {
        data = await response.json();
      } catch {
        data = null;
      }
    }
    return {ok: response.ok, status: response.status, body: data};
  }

  plan(code, signal) { return this.request(this.url(code, 'plan/'), {signal}); }

  versions(code, signal) { return this.request(this.url(code, 'versions/'), {signal}); }

  preview(code, {version, edit}) {
    return this.request(this.url(code, 'plan/preview/'), {method: 'POST', body: {version, edit}});
  }

  commit(code, {version, edit, reason}) {
    return this.request(this.url(code, 'plan/commit/'), {method: 'POST', body: {version, edit, reason}});
  }

  restore(code, {version, toVersion, reason}) {
    return this.request(this.url(code, 'plan/restore/'), {
      method: 'POST', body: {version, to_version: toVersion, reason},
    });
  }
}

// 400 bodies are {field: [reason, …]} (nested for nested fields) and may carry a GeoJSON point marking
// where the geometry went wrong: reasons as "field: reason" lines, and every point found.
export function readErrors(body) {
  const reasons = [];
  const points = [];
  const walk = (value, path) => {
    if (value === null || value === undefined) return;
    if (typeof value === 'string' || typeof value === 'number') {
      reasons.push({field: path.join('.'), message: String(value)});
    } else if (Array.isArray(value)) {
      if (value.length === 2 && value.every((n) => typeof n === 'number') && path.at(-1) === 'coordinates') return;
      value.forEach((item) => walk(item, path));
    } else if (typeof value === 'object') {
      if (value.type === 'Point' && Array.isArray(value.coordinates)) {
        points.push(value);
        return;
      }
      if (value.type === 'Feature' && value.geometry?.type === 'Point') {
        points.push(value.geometry);
        return;
      }
      for (const [key, item] of Object.entries(value)) walk(item, [...path, key]);
    }
  };
  walk(body, []);
  return {reasons, points};
}
