// large_frames_client.mjs - the client of large_frames.py on Node ws: one line "kind sha256
// length" per message it gets, then "close CODE", to OUT; no permessage-deflate, no limit
// on a message's size.
//   node large_frames_client.mjs URL OUT
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const WebSocket = require("ws");
const [url, out] = process.argv.slice(2);
const lines = [];
const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 0 });
ws.on("message", (data, isBinary) => {
	lines.push((isBinary ? "binary " : "text ") + createHash("sha256").update(data).digest("hex") + " " + data.length);
});
ws.on("close", (code) => {
	lines.push("close " + code);
	writeFileSync(out, lines.join("\n") + "\n");
});
ws.on("error", (e) => { console.error(e.message); process.exit(1); });
