/* The phone page's service worker (served at /m/sw.js, scope /m/): the page opens without a network.
 * Network first, always: online the worker sees fresh data; offline the last copy of the page, its scripts
 * and styles, and the last case list, categories and territory answer instead. Only same-origin GETs are
 * touched; submissions (POST) and the live stream pass straight through (the page's outbox queues them). */
const CACHE = 'gridgis-worker-v1';
const CACHED = [/^\/m\/$/, /^\/static\//, /^\/api\/v1\/(cases|categories|territory)\//];

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const {request} = event;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (!CACHED.some((pattern) => pattern.test(url.pathname))) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const response = await fetch(request);
      if (response.ok && !response.redirected) await cache.put(request, response.clone());
      return response;
    } catch (error) {
      const cached = await cache.match(request, {ignoreVary: true});  // Django varies on Cookie, Accept-Language
      if (cached) return cached;
      throw error;
    }
  })());
});

self.addEventListener('message', (event) => {
  if (event.data === 'forget') event.waitUntil(caches.delete(CACHE));  // on logout: no one else's copy
});
