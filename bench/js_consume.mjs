// js_consume.mjs SERVERS STREAM FILTER N OUT - what a user would write instead of wstape pull:
// a nats.js ordered consumer of STREAM (subjects FILTER) from its first message, writing
// each message as a JSON line (stream sequence, subject, headers, payload) to OUT, until N.
// Prints "messages secs cpu_s": from the first message received to the Nth (the file's
// writes flushed inside that window), in the process; start-up and connect are not timed.
import { createWriteStream } from "node:fs";
import { createRequire } from "node:module";
import { cpuUsage, hrtime } from "node:process";
const require = createRequire(new URL("../tests/package.json", import.meta.url));
const { connect } = require("nats");

const [servers, stream, filter, nArg, out] = process.argv.slice(2);
const n = Number(nArg);
const f = createWriteStream(out);
const dec = new TextDecoder();
const nc = await connect({ servers: servers.split(",") });
const js = nc.jetstream();
// one filter as a string: nats-server 2.9 knows filter_subject, not the 2.10 filter_subjects
// list (it ignores that, and the consumer then waits for ever)
const c = await js.consumers.get(stream, { filterSubjects: filter });
const msgs = await c.consume();
const cpuS = (u) => (u.user + u.system) / 1e6;
let got = 0, t0 = 0n, c0 = null;
for await (const m of msgs) {
	if (got === 0) { t0 = hrtime.bigint(); c0 = cpuUsage(); }
	const h = {};
	if (m.headers) for (const [k, v] of m.headers) h[k] = v[0];
	f.write(JSON.stringify({ seq: m.seq, subject: m.subject, headers: h, payload: dec.decode(m.data) }) + "\n");
	if (++got >= n) break;
}
await new Promise((r) => f.end(r));
const secs = got ? Number(hrtime.bigint() - t0) / 1e9 : 0;
const cpu = got ? cpuS(cpuUsage()) - cpuS(c0) : 0;
console.log(`${got} ${secs.toFixed(6)} ${cpu.toFixed(6)}`);
await nc.close();
