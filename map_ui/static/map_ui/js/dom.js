/* DOM helpers every page shares. Text from the data (names, descriptions, addresses — anything a user typed,
 * "<img onerror=…>" included) reaches the page only through textContent. */

export function textNode(tag, value, className) {
  const node = document.createElement(tag);
  node.textContent = value ?? '';
  if (className) node.className = className;
  return node;
}

// For the few places Leaflet takes HTML (tooltips, div icons): the text escaped by the browser itself.
export function escapeHtml(value) {
  return textNode('span', value).innerHTML;
}
