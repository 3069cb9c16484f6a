// The page's one way to make markup: the html`...` tag escapes every value put into it,
// unless that value is itself made by html`...` (a fragment), so text from the API can never
// become markup. Markup reaches the DOM only through setHtml, updateHtml and appendHtml,
// which take fragments and nothing else: a string passed by mistake is an error, not a hole.
//
//   setHtml(cell, html`<b title="${service.last_error}">${service.name}</b>`);
//
// Values: null and undefined give nothing, an array gives its items one after the other
// (each escaped, or kept when it is a fragment), anything else its String() escaped. Every
// attribute an interpolation goes into must be quoted (" or '): the escaping covers both.

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

class Fragment {
  constructor(markup) {
    this.markup = markup;
  }

  toString() {
    return this.markup;
  }
}

function piece(value) {
  if (value instanceof Fragment) return value.markup;
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map(piece).join('');
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

export function html(strings, ...values) {
  let markup = strings[0];
  for (let i = 0; i < values.length; i++) markup += piece(values[i]) + strings[i + 1];
  return new Fragment(markup);
}

function markupOf(fragment) {
  if (!(fragment instanceof Fragment)) throw new TypeError('markup must be made by html`...`, not given as a ' + typeof fragment);
  return fragment.markup;
}

export function setHtml(el, fragment) {
  el.innerHTML = markupOf(fragment);
}

// Writes only when the markup differs from what this function wrote last into el: an
// unchanged part of the page keeps its nodes (and the user's hover, focus and selection).
const written = new WeakMap();
export function updateHtml(el, fragment) {
  const markup = markupOf(fragment);
  if (written.get(el) === markup) return false;
  written.set(el, markup);
  el.innerHTML = markup;
  return true;
}

export function appendHtml(el, fragment) {
  el.insertAdjacentHTML('beforeend', markupOf(fragment));
}
