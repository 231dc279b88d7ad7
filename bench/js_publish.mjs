// js_publish.mjs SERVERS SUBJECT PAYLOADS - what a user would write instead of wstape publish:
// the nats.js client publishing each line of PAYLOADS (one payload a line, as `wstape cat
// --payload` prints them) to JetStream on SUBJECT, asynchronously with an acknowledgement
// for each, at most 4096 unacknowledged (wstape publish's window), each with a Nats-Msg-Id
// so that the stream deduplicates as it does for wstape.
// Prints "messages secs cpu_s": from the first publish to the last acknowledgement, in the
// process; start-up, reading the file and connect are not timed.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpuUsage, hrtime } from "node:process";
const require = createRequire(new URL("../tests/package.json", import.meta.url));
const { connect } = require("nats");

const [servers, subject, file] = process.argv.slice(2);
const enc = new TextEncoder();
const payloads = readFileSync(file, "utf8").split("\n").filter((l) => l.length).map((l) => enc.encode(l));
const nc = await connect({ servers: servers.split(",") });
const js = nc.jetstream();
const window = 4096;
const cpuS = (u) => (u.user + u.system) / 1e6;
const t0 = hrtime.bigint(), c0 = cpuUsage();
const pending = [];
let acked = 0;
for (let i = 0; i < payloads.length; i++) {
	pending.push(js.publish(subject, payloads[i], { msgID: `js.${i}` }));
	if (pending.length >= window) {
		await pending.shift();
		acked++;
	}
}
for (const p of pending) {
	await p;
	acked++;
}
const secs = Number(hrtime.bigint() - t0) / 1e9;
console.log(`${acked} ${secs.toFixed(6)} ${(cpuS(cpuUsage()) - cpuS(c0)).toFixed(6)}`);
await nc.close();
