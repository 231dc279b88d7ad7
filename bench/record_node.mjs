// record_node.mjs OUT N URL - what a user would write instead of wstape record: a Node `ws`
// client writing each message as a JSON line until N messages.
import { createWriteStream } from "node:fs";
import { createRequire } from "node:module";
const require = createRequire(new URL("../tests/package.json", import.meta.url));
const WebSocket = require("ws");

const [out, nArg, url] = process.argv.slice(2);
const n = Number(nArg);
const f = createWriteStream(out);
const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 0 });
let got = 0;
ws.on("message", (data) => {
	if (got >= n) return;
	f.write(JSON.stringify({ t: Date.now(), payload: data.toString() }) + "\n");
	if (++got >= n) {
		ws.terminate();
		f.end(() => { console.log(got); process.exit(0); });
	}
});
ws.on("close", () => f.end(() => { console.log(got); process.exit(0); }));
