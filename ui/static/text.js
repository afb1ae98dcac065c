// Text from outside the page (phones, device records, Kazoo), bounded
// before it is shown; it reaches the page through textContent only.

/** clip is v as a string of at most max characters, cut with "…". */
export function clip(v, max = 256) {
  const s = String(v ?? "");
  return s.length > max ? s.slice(0, max - 1) + "…" : s;
}

/** textOf is a JSON value as text: a string as it is, anything else as JSON. */
export function textOf(v) {
  return typeof v === "string" ? v : JSON.stringify(v);
}
