// The account's devices with no live registration, shown greyed beside
// the registered phones. A device object is Kazoo's (through kamreg's
// proxy) or kamreg's own device record, in the same shape; every string
// in it is hostile text.
import {clip} from "./text.js";

const lower = (v) => String(v ?? "").toLowerCase();

/** deviceLabel is what names a device: its username, else its name. */
export function deviceLabel(d) {
  return clip(d.username || d.name || d.id, 128);
}

/**
 * unregistered returns the devices that may register (registrable is not
 * false) and that no live registration of rows has, by device id
 * (authorizing_id) or by username in any case, ordered by label.
 */
export function unregistered(devices, rows) {
  const ids = new Set();
  const users = new Set();
  for (const r of rows) {
    ids.add(r.authorizing_id);
    users.add(lower(r.username));
  }
  return devices
    .filter((d) => d && typeof d === "object" && d.registrable !== false &&
      !(typeof d.id === "string" && ids.has(d.id)) && !(d.username && users.has(lower(d.username))))
    .sort((a, b) => deviceLabel(a).localeCompare(deviceLabel(b)));
}

/** matches tells whether the device's username or name holds f (lower case). */
export function matches(d, f) {
  return !f || [d.username, d.name].some((v) => lower(v).includes(f));
}

/**
 * deviceRow is the greyed row of a device with no registration: its
 * username (and its name when it differs), a "not registered" mark, no
 * actions. cell(label, text, cls) makes one cell.
 */
export function deviceRow(d, cell) {
  const tr = document.createElement("tr");
  tr.className = "device unregistered";
  tr.setAttribute("aria-disabled", "true");
  tr.dataset.device = clip(d.id, 64);
  tr.dataset.username = clip(d.username, 256);
  const user = cell("User", deviceLabel(d), "username");
  if (d.name && d.name !== d.username) {
    const name = document.createElement("span");
    name.className = "device-name";
    name.textContent = clip(d.name, 128);
    user.append(" ", name);
  }
  const mark = cell("Contact", "", "contact");
  const span = document.createElement("span");
  span.className = "mark";
  span.textContent = "not registered";
  mark.append(span);
  tr.append(user, mark, cell("Source", "", "source"), cell("User agent", "", "agent"),
    cell("Registered since", "", "initial"), cell("Last registration", "", "last"),
    cell("Expires in", "", "expires"), cell("", "", "actions"));
  return tr;
}
