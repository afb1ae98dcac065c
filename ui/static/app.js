// The registrations page: a token, an account, its live registrations.
import {Api, ApiError} from "./api.js";
import {readEvents} from "./stream.js";
import {deviceRow, matches, unregistered} from "./devices.js";
import {showDetails} from "./details.js";
import {fillPicker, pickerOptions} from "./accounts.js";

const $ = (id) => document.getElementById(id);

// The token lives in this tab's sessionStorage only; the account ids used
// lately (not secrets) are remembered across tabs.
const TOKEN = "kamreg.token";
const ACCOUNTS = "kamreg.accounts";
// The account the token was connected to: the picker lists it and the
// accounts below it. Kept beside the token.
const HOME = "kamreg.home";

const state = {
  api: null,
  account: "",
  home: "",
  rows: new Map(),
  // The account's devices (Kazoo's device objects, or kamreg's records).
  devices: [],
  sort: {key: "username", dir: 1},
  filter: "",
  abort: null,
};

const keyOf = (r) => `${r.username}\u0000${r.contact}`;
// What the page knows of a row beside its keys (its deadline, whether it
// just changed), kept off the object so that its keys stay the list's.
const meta = new WeakMap();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function setStatus(name, text) {
  $("status").dataset.state = name;
  $("status").textContent = text;
}

function showError(err) {
  const el = $("error");
  el.textContent = err ? String(err.message || err) : "";
  el.hidden = !err;
}

function notice(text) {
  const el = $("notice");
  el.textContent = text;
  el.hidden = !text;
}

function accountsSeen() {
  try {
    return JSON.parse(localStorage.getItem(ACCOUNTS) || "[]").filter((a) => /^[0-9a-f]{32}$/.test(a));
  } catch {
    return [];
  }
}

function rememberAccount(id) {
  const list = [id, ...accountsSeen().filter((a) => a !== id)].slice(0, 10);
  localStorage.setItem(ACCOUNTS, JSON.stringify(list));
  fillAccounts();
}

function fillAccounts() {
  const dl = $("accounts");
  dl.replaceChildren(...accountsSeen().map((a) => Object.assign(document.createElement("option"), {value: a})));
}

// A row's place in time: when it expires, from the seconds left it came with.
function stamp(r, fresh = false) {
  meta.set(r, {deadline: r.expires > 0 ? Date.now() + r.expires * 1000 : 0, fresh});
  return r;
}

function source(r) {
  const ip = r.source_ip || (r.network_ip !== "undefined" ? r.network_ip : "");
  const port = r.source_port || (r.network_port !== "undefined" ? r.network_port : "");
  return ip ? `${ip}:${port}` : "";
}

function secondsLeft(r) {
  const deadline = meta.get(r)?.deadline;
  return deadline ? Math.max(0, Math.round((deadline - Date.now()) / 1000)) : Infinity;
}

function expiresText(r) {
  const s = secondsLeft(r);
  if (s === Infinity) {
    return "permanent";
  }
  const m = Math.floor(s / 60);
  return m > 0 ? `${m} min ${String(s % 60).padStart(2, "0")} s` : `${s} s`;
}

// GREGORIAN is Kazoo's time origin (year 0) in Unix seconds.
const GREGORIAN = 62167219200;

// when is a Kazoo time (Gregorian seconds) as local time; "" when unknown.
function when(g) {
  return typeof g === "number" && g > GREGORIAN ? new Date((g - GREGORIAN) * 1000).toLocaleString() : "";
}

const sortValue = {
  username: (r) => r.username,
  contact: (r) => r.contact,
  source: (r) => source(r),
  user_agent: (r) => r.user_agent,
  expires: (r) => secondsLeft(r),
  initial_registration: (r) => r.initial_registration || 0,
  last_registration: (r) => r.last_registration || 0,
};

function visibleRows() {
  const f = state.filter.toLowerCase();
  const rows = [...state.rows.values()].filter((r) => !f ||
    [r.username, r.contact, source(r), r.user_agent, r.call_id].some((v) => String(v).toLowerCase().includes(f)));
  const {key, dir} = state.sort;
  const val = sortValue[key];
  rows.sort((a, b) => {
    const x = val(a);
    const y = val(b);
    const c = typeof x === "number" ? x - y : String(x).localeCompare(String(y));
    return (c || a.contact.localeCompare(b.contact)) * dir;
  });
  return rows;
}

function cell(label, text, cls) {
  const td = document.createElement("td");
  td.dataset.label = label;
  td.textContent = text;
  if (cls) {
    td.className = cls;
  }
  return td;
}

/** actionButton is a row's button for the registration r (its username
 * and realm in data attributes, read by the click handlers). */
function actionButton(className, text, label, r) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = className;
  b.dataset.username = r.username;
  b.dataset.realm = r.realm;
  b.textContent = text;
  b.setAttribute("aria-label", label);
  return b;
}

function render() {
  const rows = visibleRows();
  const body = $("regs").tBodies[0];
  body.replaceChildren(...rows.map((r) => {
    const tr = document.createElement("tr");
    tr.dataset.key = keyOf(r);
    tr.dataset.username = r.username;
    const flush = actionButton("flush-one danger", "Flush", `Flush ${r.username}`, r);
    const restart = actionButton("restart-one", "Restart", `Restart ${r.username}`, r);
    const details = actionButton("details-one", "Details", `Details of ${r.username}`, r);
    const actions = cell("", "", "actions");
    actions.append(details, restart, flush);
    tr.append(cell("User", r.username, "username"), cell("Contact", r.contact, "contact"),
      cell("Source", source(r), "source"), cell("User agent", r.user_agent, "agent"),
      cell("Registered since", when(r.initial_registration), "initial"),
      cell("Last registration", when(r.last_registration), "last"),
      cell("Expires in", expiresText(r), "expires"), actions);
    if (meta.get(r)?.fresh) {
      tr.classList.add("fresh");
    }
    return tr;
  }));
  const f = state.filter.toLowerCase();
  body.append(...unregistered(state.devices, state.rows.values()).filter((d) => matches(d, f)).map((d) => deviceRow(d, cell)));
  const total = state.rows.size;
  $("count").textContent = String(rows.length);
  $("count-label").textContent = rows.length === total ?
    (total === 1 ? "registration" : "registrations") : `of ${total} registrations`;
  $("empty").hidden = rows.length > 0;
  for (const th of $("regs").tHead.rows[0].cells) {
    if (th.dataset.key) {
      th.setAttribute("aria-sort", th.dataset.key !== state.sort.key ? "none" :
        (state.sort.dir > 0 ? "ascending" : "descending"));
    }
  }
}

function apply(ev) {
  switch (ev.type) {
    case "snapshot":
      state.rows = new Map(ev.data.map((r) => [keyOf(r), stamp(r)]));
      setStatus("live", "live");
      $("view").hidden = false;
      loadDevices(state.api);
      break;
    case "registered":
    case "refreshed":
      state.rows.set(keyOf(ev.data), stamp(ev.data, true));
      setTimeout(() => {
        const m = meta.get(ev.data);
        if (m) {
          m.fresh = false;
        }
      }, 3000);
      break;
    case "unregistered":
      state.rows.delete(keyOf(ev.data));
      break;
    default:
      return;
  }
  render();
}

// follow reads the stream, reconnecting (with a fresh snapshot) when it
// ends, until stopped or refused.
async function follow(api, signal) {
  let delay = 1000;
  while (!signal.aborted) {
    setStatus("connecting", "connecting…");
    try {
      const resp = await api.events(signal);
      showError(null);
      delay = 1000;
      await readEvents(resp, apply);
    } catch (err) {
      if (signal.aborted) {
        return;
      }
      showError(err);
      if (err instanceof ApiError && err.status >= 400 && err.status < 500 && err.status !== 429) {
        setStatus("off", "stopped");
        return;
      }
    }
    if (signal.aborted) {
      return;
    }
    setStatus("retry", "reconnecting…");
    await sleep(delay);
    delay = Math.min(delay * 2, 15000);
  }
}

// loadDevices reads the account's devices for the greyed rows. A server
// that lists none (404) shows none; the answer of an account the page
// left is dropped.
async function loadDevices(api) {
  try {
    const list = await api.devices(state.abort.signal);
    if (api === state.api) {
      state.devices = Array.isArray(list) ? list : [];
      render();
    }
  } catch (err) {
    if (api === state.api && !(err instanceof ApiError && err.status === 404) && err.name !== "AbortError") {
      showError(err);
    }
  }
}

// loadPicker fills the account picker with home and every account below
// it, as "name (id)". Failing that, it holds home alone, by id.
async function loadPicker(token, home) {
  const api = new Api(token, home);
  const [doc, below] = await Promise.allSettled([api.accountDoc(), api.descendants()]);
  if (state.home !== home) {
    return;
  }
  fillPicker($("picker"), pickerOptions(home, doc.value, below.value), state.account);
  $("picker-box").hidden = false;
  if (below.status === "rejected" && !(below.reason instanceof ApiError && below.reason.status === 404)) {
    showError(below.reason);
  }
}

// start shows account's registrations; home is the account the picker
// lists with those below it (account itself on a new connection).
function start(token, account, home = account) {
  if (state.abort) {
    state.abort.abort();
  }
  state.api = new Api(token, account);
  state.account = account;
  state.rows = new Map();
  state.devices = [];
  state.abort = new AbortController();
  sessionStorage.setItem(TOKEN, token);
  sessionStorage.setItem(HOME, home);
  rememberAccount(account);
  $("account").value = account;
  if (state.home !== home) {
    state.home = home;
    $("picker-box").hidden = true;
    loadPicker(token, home);
  } else {
    $("picker").value = account;
  }
  $("signout").hidden = false;
  $("token").value = "";
  $("token").placeholder = "token kept for this tab";
  $("token").required = false;
  notice("");
  follow(state.api, state.abort.signal);
}

// The confirm dialog's one open question: settled when its form is
// submitted (by Cancel or by the action's button) or on Escape. Its "close"
// event is not used: Chromium fires it on a later animation frame, after a
// quick second question could already be waiting, which it would answer.
let confirmPending = null;

function settleConfirm(ok) {
  const resolve = confirmPending;
  confirmPending = null;
  if (resolve) {
    resolve(ok);
  }
}

function confirmAction(text, ok = "Flush") {
  settleConfirm(false);
  const dlg = $("confirm");
  $("confirm-text").textContent = text;
  $("confirm-ok").textContent = ok;
  dlg.showModal();
  return new Promise((resolve) => {
    confirmPending = resolve;
  });
}

/** flush flushes one user ({username, realm}), or the account when user is null. */
async function flush(user) {
  const what = user ? `every contact of ${user.username}` : `all ${state.rows.size} registrations of the account`;
  if (!await confirmAction(`Flush ${what}? Phones show again when they next register.`)) {
    return;
  }
  try {
    await (user ? state.api.flushUser(user.username, user.realm) : state.api.flushAll());
    showError(null);
    notice(user ? `Flushed ${user.username}.` : "Flushed the account.");
  } catch (err) {
    showError(err);
  }
}

/** restart sends check-sync to every phone of one user ({username, realm}). */
async function restart(user) {
  if (!await confirmAction(`Restart every phone of ${user.username}? Each is told to reload its configuration (SIP NOTIFY check-sync); some phones reboot.`, "Restart")) {
    return;
  }
  try {
    await state.api.syncUser(user.username, user.realm);
    showError(null);
    notice(`Restart sent to ${user.username}.`);
  } catch (err) {
    showError(err);
  }
}

async function downloadCSV() {
  try {
    const blob = await state.api.csv();
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = `registrations-${state.account}.csv`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  } catch (err) {
    showError(err);
  }
}

function init() {
  fillAccounts();
  const seen = accountsSeen();
  if (seen.length > 0) {
    $("account").value = seen[0];
  }
  $("login").addEventListener("submit", (e) => {
    e.preventDefault();
    const token = $("token").value.trim() || sessionStorage.getItem(TOKEN) || "";
    const account = $("account").value.trim().toLowerCase();
    if (!token) {
      showError(new Error("Paste an API token first."));
      return;
    }
    start(token, account);
  });
  $("signout").addEventListener("click", () => {
    if (state.abort) {
      state.abort.abort();
    }
    sessionStorage.removeItem(TOKEN);
    sessionStorage.removeItem(HOME);
    state.home = "";
    $("picker-box").hidden = true;
    state.rows = new Map();
    state.devices = [];
    render();
    $("view").hidden = true;
    $("signout").hidden = true;
    $("token").placeholder = "paste a kamreg API token or a Kazoo JWT";
    $("token").required = true;
    setStatus("off", "not connected");
  });
  $("filter").addEventListener("input", (e) => {
    state.filter = e.target.value;
    render();
  });
  $("regs").tHead.addEventListener("click", (e) => {
    const th = e.target.closest("th[data-key]");
    if (!th) {
      return;
    }
    const key = th.dataset.key;
    state.sort = {key, dir: state.sort.key === key ? -state.sort.dir : 1};
    render();
  });
  $("regs").tBodies[0].addEventListener("click", (e) => {
    const b = e.target.closest("button.flush-one");
    if (b) {
      flush({username: b.dataset.username, realm: b.dataset.realm});
    }
    const rb = e.target.closest("button.restart-one");
    if (rb) {
      restart({username: rb.dataset.username, realm: rb.dataset.realm});
    }
    const db = e.target.closest("button.details-one");
    const r = db && state.rows.get(db.closest("tr").dataset.key);
    if (r) {
      showDetails($("details"), r);
    }
  });
  $("picker").addEventListener("change", (e) => {
    const token = sessionStorage.getItem(TOKEN);
    if (token && /^[0-9a-f]{32}$/.test(e.target.value)) {
      start(token, e.target.value, state.home);
    }
  });
  $("confirm").querySelector("form").addEventListener("submit", (e) => settleConfirm(e.submitter?.value === "ok"));
  $("confirm").addEventListener("cancel", () => settleConfirm(false));
  $("flush-all").addEventListener("click", () => flush(null));
  $("csv").addEventListener("click", downloadCSV);
  // Expiry counts down between events.
  setInterval(() => {
    for (const tr of $("regs").tBodies[0].rows) {
      const r = state.rows.get(tr.dataset.key);
      if (r) {
        tr.querySelector(".expires").textContent = expiresText(r);
      }
    }
  }, 1000);
  const token = sessionStorage.getItem(TOKEN);
  if (token && seen.length > 0) {
    const home = sessionStorage.getItem(HOME) || "";
    start(token, seen[0], /^[0-9a-f]{32}$/.test(home) ? home : seen[0]);
  }
}

init();
