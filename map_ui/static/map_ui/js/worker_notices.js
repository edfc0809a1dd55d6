/* Grid change notices on the phone page: the bell's unread count, the notices sheet, marking read. A planner's
 * commit writes them (/api/v1/notices/), and its live `territory` event makes the page refresh them at once
 * (worker.js); when a newer one arrives than the page has seen, `onArrived` is told (the page redraws the
 * worker's grids and reloads the case list: the boundary changed). Text from the server
 * reaches the DOM only through textContent. */

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : '';
}

export class Notices {
  /* url: the list (/api/v1/notices/); texts: translated messages; when(iso): a time in Asia/Shanghai;
   * nodes: {bell, count, list, empty, readAll}; onArrived(body): newer notices than the page has seen. */
  constructor({url, texts, when, nodes, onArrived}) {
    Object.assign(this, {url, texts, when, nodes, onArrived});
    this.newest = null;  // the highest notice id seen; null until the first answer
    this.results = [];
    this.busy = null;
  }

  /* Reads the notices again (one request at a time); offline it keeps what it showed. */
  refresh() {
    if (!this.busy) this.busy = this.load().finally(() => { this.busy = null; });
    return this.busy;
  }

  async load() {
    let body;
    try {
      const response = await fetch(this.url, {headers: {Accept: 'application/json'}, credentials: 'same-origin'});
      if (!response.ok) return;
      body = await response.json();
    } catch {
      return;
    }
    const newest = body.results.reduce((max, n) => Math.max(max, n.id), 0);
    const arrived = this.newest !== null && newest > this.newest;
    this.newest = Math.max(this.newest ?? 0, newest);
    this.results = body.results;
    this.show(body.unread);
    if (arrived) await this.onArrived(body);
  }

  show(unread) {
    const {bell, count} = this.nodes;
    count.hidden = unread === 0;
    count.textContent = unread > 99 ? '99+' : String(unread);
    count.dataset.count = String(unread);
    bell.classList.toggle('has-unread', unread > 0);
    bell.setAttribute('aria-label', unread ? `${this.texts.notices} · ${this.texts.unread.replace('%(n)s', unread)}`
      : this.texts.notices);
    this.render();
  }

  render() {
    const {list, empty, readAll} = this.nodes;
    list.replaceChildren();
    empty.hidden = this.results.length > 0;
    readAll.disabled = !this.results.some((n) => !n.read);
    for (const notice of this.results) {
      const item = el('li', `notice-item${notice.read ? ' read' : ' unread'}`);
      item.dataset.noticeId = notice.id;
      const top = el('span', 'notice-top');
      top.append(el('time', 'notice-at', this.when(notice.created_at)),
                 el('span', 'notice-state', notice.read ? this.texts.read : this.texts.unreadOne));
      const grids = el('span', 'notice-grids', `${this.texts.grids} ${notice.grids.join('、')}`);
      const button = el('button', 'notice-open');
      button.type = 'button';
      button.append(top, el('span', 'notice-message', notice.message), grids);
      if (!notice.read) button.addEventListener('click', () => this.markRead(notice.id));
      item.append(button);
      list.append(item);
    }
  }

  async post(url) {
    try {
      const response = await fetch(url, {method: 'POST', credentials: 'same-origin',
                                         headers: {Accept: 'application/json', 'X-CSRFToken': csrfToken()}});
      return response.ok ? response.json() : null;
    } catch {
      return null;  // offline: nothing changed, the next refresh shows the truth
    }
  }

  async markRead(id) {
    const body = await this.post(`${this.url}${id}/read/`);
    if (!body) return;
    this.results = this.results.map((n) => (n.id === id ? {...n, read: true, read_at: body.read_at} : n));
    this.show(body.unread);
  }

  async markAll() {
    const body = await this.post(`${this.url}read-all/`);
    if (!body) return;
    this.results = this.results.map((n) => ({...n, read: true}));
    this.show(body.unread);
  }
}
