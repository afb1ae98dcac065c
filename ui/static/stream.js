// Server-Sent Events read from a fetch() answer, so that the token goes in
// a header: EventSource cannot send one.

/**
 * readEvents calls onEvent({type, id, data}) for each event of the
 * stream, data parsed as JSON, until the stream ends.
 */
export async function readEvents(resp, onEvent) {
  const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  for (;;) {
    const {value, done} = await reader.read();
    if (done) {
      return;
    }
    buf += value.replace(/\r\n?/g, "\n");
    let end;
    while ((end = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, end);
      buf = buf.slice(end + 2);
      const ev = parseBlock(block);
      if (ev) {
        onEvent(ev);
      }
    }
  }
}

function parseBlock(block) {
  let type = "message";
  let id = "";
  const data = [];
  for (const line of block.split("\n")) {
    if (line === "" || line.startsWith(":")) {
      continue; // a heartbeat, or another comment
    }
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) {
      value = value.slice(1);
    }
    if (field === "event") {
      type = value;
    } else if (field === "id") {
      id = value;
    } else if (field === "data") {
      data.push(value);
    }
  }
  if (data.length === 0) {
    return null;
  }
  return {type, id, data: JSON.parse(data.join("\n"))};
}
