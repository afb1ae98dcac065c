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

/** Api calls one account's registrations routes. */
export class Api {
  constructor(token, account) {
    this.token = token;
    this.base = `/v2/accounts/${encodeURIComponent(account)}/registrations`;
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

  /** flushUser flushes every contact of a username. */
  async flushUser(username) {
    await this.call("DELETE", "/" + encodeURIComponent(username));
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
