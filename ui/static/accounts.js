// The account picker: the account the token was connected to and every
// account below it (Kazoo's /descendants, through kamreg's proxy or from
// kamreg's own accounts table). Names are hostile text.
import {clip} from "./text.js";

const validID = (id) => typeof id === "string" && /^[0-9a-f]{32}$/.test(id);

/** accountLabel is "name (id)", or the id alone when the name is unknown. */
export function accountLabel(id, name) {
  return name ? `${clip(name, 128)} (${id})` : id;
}

/**
 * pickerOptions returns [{id, label}]: home first (its name from homeDoc,
 * the account document, when known), then each descendant with a valid
 * id, once, in the order given.
 */
export function pickerOptions(home, homeDoc, descendants) {
  const out = [{id: home, label: accountLabel(home, homeDoc && homeDoc.name)}];
  const seen = new Set([home]);
  for (const d of Array.isArray(descendants) ? descendants : []) {
    if (d && validID(d.id) && !seen.has(d.id)) {
      seen.add(d.id);
      out.push({id: d.id, label: accountLabel(d.id, d.name)});
    }
  }
  return out;
}

/** fillPicker puts the options in select, choosing current. */
export function fillPicker(select, options, current) {
  select.replaceChildren(...options.map((o) => new Option(o.label, o.id, false, o.id === current)));
  if (!options.some((o) => o.id === current)) {
    select.append(new Option(current, current, false, true));
  }
}
