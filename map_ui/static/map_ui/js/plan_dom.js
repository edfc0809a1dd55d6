/* Small DOM and text helpers for the planner page. Data reaches the DOM only through textContent. */

import {textNode as el} from './dom.js';

export {el};

// '已选 {n} 个网格' + {n: 3} → '已选 3 个网格' (translated templates come from data- attributes).
export function fill(template, values) {
  return (template ?? '').replace(/\{(\w+)\}/g, (whole, key) => (key in values ? String(values[key]) : whole));
}

const lang = document.documentElement.lang || 'zh-hans';
const locale = lang.startsWith('zh') ? 'zh-CN' : lang;
const numberFormat = new Intl.NumberFormat(locale);
// Every time on the page is Shanghai time, whatever the browser's own zone.
const timeFormat = new Intl.DateTimeFormat(locale, {
  timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
  hour12: false,
});

export function number(value) {
  return value === null || value === undefined || value === '' ? '–' : numberFormat.format(value);
}

export function time(value) {
  if (!value) return '';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : timeFormat.format(date);
}

export function timeElement(value) {
  const node = el('time', time(value));
  if (value) node.dateTime = String(value);
  return node;
}
