// How the page writes ids, digests, names, times and durations.

export const shortId = (c) => String(c || '').slice(0, 12);

export const shortDigest = (d) => {
  const s = String(d || '');
  const i = s.indexOf(':');
  return (i >= 0 ? s.slice(i + 1) : s).slice(0, 12);
};

export const authorName = (a) => String(a || '').replace(/\s*<[^>]*>\s*$/, '');

export function ago(iso) {
  if (!iso) return '';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  let s = Math.round((Date.now() - t) / 1000);
  if (s < 0) s = 0;
  if (s < 60) return s + 's ago';
  const m = Math.floor(s / 60);
  if (m < 60) return m + 'm ago';
  const h = Math.floor(m / 60);
  if (h < 48) return h + 'h ' + (m % 60) + 'm ago';
  return Math.floor(h / 24) + 'd ago';
}

export function until(iso) {
  const t = Date.parse(iso || '');
  if (Number.isNaN(t)) return '';
  const s = Math.max(0, Math.round((t - Date.now()) / 1000));
  return s >= 60 ? Math.floor(s / 60) + 'm ' + String(s % 60).padStart(2, '0') + 's' : s + 's';
}

// Intl formatters are slow to make: one each, made once.
const clockFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium', hour12: false });

export const clock = (iso) => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : clockFormat.format(d);
};

export const fullTime = (iso) => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso || '') : fullFormat.format(d);
};

export const fmtMs = (ms) => (ms >= 1000 ? (ms / 1000).toFixed(1) + ' s' : Math.round(ms) + ' ms');
