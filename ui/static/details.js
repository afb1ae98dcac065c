// The details dialog: every key of one registration, in the list's order,
// each value as text. Its form (method "dialog") closes it, as Escape
// does; nothing waits on its close event.
import {clip, textOf} from "./text.js";

/** showDetails fills dlg with every key of registration r and opens it. */
export function showDetails(dlg, r) {
  dlg.querySelector(".details-title").textContent = clip(`${r.username} · ${r.contact}`, 300);
  const list = dlg.querySelector("dl");
  list.replaceChildren(...Object.keys(r).flatMap((k) => {
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = clip(textOf(r[k]), 4096);
    return [dt, dd];
  }));
  dlg.showModal();
}
