/* The planner's two dialogs: the reason a commit or a restore needs, and what changed under a stale edit. */

import {el, fill, time} from './plan_dom.js';

// Resolves to the reason given (trimmed, never blank), or null when the planner backs out.
export function askReason(dialog, title, {required}) {
  const input = dialog.querySelector('textarea');
  const error = dialog.querySelector('.dialog-error');
  dialog.querySelector('[data-field="title"]').textContent = title;
  input.value = '';
  error.hidden = true;
  dialog.returnValue = '';
  const form = dialog.querySelector('form');
  const refuseBlank = (event) => {
    if (event.submitter?.value === 'confirm' && !input.value.trim()) {
      event.preventDefault();
      error.textContent = required;
      error.hidden = false;
    }
  };
  form.addEventListener('submit', refuseBlank);
  dialog.showModal();
  input.focus();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      form.removeEventListener('submit', refuseBlank);
      resolve(dialog.returnValue === 'confirm' ? input.value.trim() : null);
    }, {once: true});
  });
}

function person(value) {
  return value && typeof value === 'object' ? value.name ?? value.username ?? '' : value;
}

// Resolves to true when the planner asks to reload the community as it now is.
export function showConflict(dialog, body, {stale, versionText}) {
  dialog.querySelector('[data-field="detail"]').textContent = body?.detail ?? stale;
  const list = dialog.querySelector('.changes');
  list.replaceChildren();
  for (const change of body?.changes ?? []) {
    const item = el('li');
    const head = el('p', null, 'change-head');
    head.append(el('strong', fill(versionText, {version: change.version})));
    const by = person(change.by);
    if (by) head.append(el('span', by, 'by'));
    if (change.at) head.append(el('time', time(change.at)));
    item.append(head);
    if (change.summary) item.append(el('p', change.summary, 'summary'));
    if (change.reason) item.append(el('p', change.reason, 'reason'));
    list.append(item);
  }
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'reload'), {once: true});
  });
}
