// The registrations API, called with the token in the X-Auth-Token header
// only (never in a URL).

/** ApiError is a failed call, read from kamreg's error envelope. */
export class ApiError extends Error {
  constructor(status, message, detail) {
    super(detail ? `${message}: ${detail}` : message);
    this.status = status;
  }
}

/** errorOf reads a failed answer's envelope into an ApiError. */
export async function errorOf(resp) {
  let env = null;
  try {
    env = await resp.json();
  } catch {
    return new ApiError(resp.status, `HTTP ${resp.status}`);
  }
  const data = env && env.data;
  let detail = "";
  if (data && typeof data.message === "string") {
    detail = data.message;
  } else if (data !== undefined && data !== null) {
    detail = JSON.stringify(data);
  }
  return new ApiError(resp.status, `${env.error || resp.status} ${env.message || "error"}`, detail);
}

/**
 * userSegment is the path segment that names one phone's user: its AoR,
 * username@realm, percent-encoded once. Browsers drop a segment "." or
 * "%2E" (and ".." or "%2E%2E") before sending, so a bare username "." would
 * become the account's flush (…/registrations/) and ".." a path off the
 * registrations routes. The AoR always holds "%40", so it is never a dot
 * segment, and kamreg takes it as the same user.
 */
export function userSegment(username, realm) {
  if (!username || !realm) {
    throw new Error("a user's flush needs its username and realm");
  }
  return encodeURIComponent(`${username}@${realm}`);
}

/** Api calls one account's registrations routes, and the account routes the page reads. */
export class Api {
  constructor(token, account) {
    this.token = token;
    this.root = `/v2/accounts/${encodeURIComponent(account)}`;
    this.base = `${this.root}/registrations`;
  }

  /** data GETs a path under the account and returns its envelope's data. */
  async data(path, signal) {
    const resp = await fetch(this.root + path, {
      method: "GET", signal, cache: "no-store",
      headers: {"X-Auth-Token": this.token, "Accept": "application/json"},
    });
    if (!resp.ok) {
      throw await errorOf(resp);
    }
    const env = await resp.json();
    return env && env.data;
  }

  /** accountDoc is the account's document (its name among its keys). */
  accountDoc(signal) {
    return this.data("", signal);
  }

  /** descendants lists every account below this one, in one page: [{id, name, …}]. */
  descendants(signal) {
    return this.data("/descendants?paginate=false", signal);
  }

  /** devices lists the account's devices, each with registered, in one page. */
  devices(signal) {
    return this.data("/devices?with_status=true&paginate=false", signal);
  }

  async call(method, path, accept = "application/json", signal) {
    const resp = await fetch(this.base + path, {
      method, signal, cache: "no-store",
      headers: {"X-Auth-Token": this.token, "Accept": accept},
    });
    if (!resp.ok) {
      throw await errorOf(resp);
    }
    return resp;
  }

  /** flushUser flushes every contact of a username of the realm. */
  async flushUser(username, realm) {
    await this.call("DELETE", "/" + userSegment(username, realm));
  }

  /**
   * syncUser asks every phone of a username of the realm to check its
   * configuration (SIP NOTIFY check-sync), or to reboot with reboot true.
   */
  async syncUser(username, realm, reboot = false) {
    await this.call("POST", "/" + userSegment(username, realm) + "/sync" + (reboot ? "?reboot=true" : ""));
  }

  /** flushAll flushes the whole account. */
  async flushAll() {
    await this.call("DELETE", "");
  }

  /** csv returns the list as a CSV Blob. */
  async csv() {
    const resp = await this.call("GET", "", "text/csv");
    return resp.blob();
  }

  /** events opens the event stream (see stream.js). */
  events(signal) {
    return this.call("GET", "/events", "text/event-stream", signal);
  }
}
