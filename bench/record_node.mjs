// record_node.mjs OUT N URL - what a user would write instead of wstape record: a Node `ws`
// client writing each message as a JSON line until N messages.
// Prints "messages secs cpu_s": the time and the process's CPU (user + system) from the
// first message received to the Nth, measured in the process (the file's last writes are
// flushed inside that window); start-up, connect and exit are not timed.
import { createWriteStream } from "node:fs";
import { createRequire } from "node:module";
import { cpuUsage, hrtime } from "node:process";
const require = createRequire(new URL("../tests/package.json", import.meta.url));
const WebSocket = require("ws");

const [out, nArg, url] = process.argv.slice(2);
const n = Number(nArg);
const f = createWriteStream(out);
const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 0 });
let got = 0, t0 = 0n, c0 = null, reported = false;
const cpuS = (u) => (u.user + u.system) / 1e6;
function report() {
	if (reported) return;
	reported = true;
	const secs = got ? Number(hrtime.bigint() - t0) / 1e9 : 0;
	const cpu = got ? cpuS(cpuUsage()) - cpuS(c0) : 0;
	console.log(`${got} ${secs.toFixed(6)} ${cpu.toFixed(6)}`);
	process.exit(0);
}
ws.on("message", (data) => {
	if (got >= n) return;
	if (got === 0) { t0 = hrtime.bigint(); c0 = cpuUsage(); }
	f.write(JSON.stringify({ t: Date.now(), payload: data.toString() }) + "\n");
	if (++got >= n) {
		ws.terminate();
		f.end(report);
	}
});
ws.on("close", () => f.end(report));
