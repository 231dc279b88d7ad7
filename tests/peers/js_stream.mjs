#!/usr/bin/env node
// js_stream.mjs - an independent NATS JetStream peer for the tests, written from the nats.js
// documentation (npm nats 2.x), not from wstape's code; works with nats-server 2.9.
//   node js_stream.mjs --servers URLS create NAME [--subjects S[,S2...]] [--replicas N]
//       creates the stream (limits retention, file storage), prints its StreamInfo JSON
//   node js_stream.mjs --servers URLS info NAME
//       prints the stream's StreamInfo JSON (config, state, cluster) on one line
//   node js_stream.mjs --servers URLS dump NAME
//       one JSON line per stored message, read sequence by sequence (jsm.streams.getMessage):
//       {"seq":N,"subject":"...","time":"RFC 3339 as the server gave it","headers":{"K":"V"
//       (or ["V1","V2"] for a repeated one)},"payload_b64":"..."}; a sequence the stream no
//       longer holds (deleted) is skipped and counted on stderr
// URLS: comma-separated nats://HOST:PORT. Exit 0; 1 on an error (said on stderr); 2 usage.
import { connect } from "nats";

function usage(msg) {
	if (msg) process.stderr.write(`js_stream.mjs: ${msg}\n`);
	process.stderr.write(
		"usage: js_stream.mjs --servers URLS create NAME [--subjects S] [--replicas N] | info NAME | dump NAME\n"
	);
	process.exit(2);
}

const argv = process.argv.slice(2);
const opt = { servers: null, subjects: "wstape.>", replicas: 1, timeout: 10000 };
const pos = [];
for (let i = 0; i < argv.length; i++) {
	const a = argv[i];
	const val = () => {
		if (i + 1 >= argv.length) usage(`${a} wants a value`);
		return argv[++i];
	};
	if (a === "--servers") opt.servers = val();
	else if (a === "--subjects") opt.subjects = val();
	else if (a === "--replicas") opt.replicas = Number(val());
	else if (a === "--timeout-ms") opt.timeout = Number(val());
	else if (a.startsWith("--")) usage(`unknown option ${a}`);
	else pos.push(a);
}
if (!opt.servers) usage("--servers is required");
if (pos.length !== 2) usage();
const [cmd, name] = pos;
if (!["create", "info", "dump"].includes(cmd)) usage(`unknown command ${cmd}`);
if (!Number.isInteger(opt.replicas) || opt.replicas < 1) usage("--replicas wants a positive integer");

function headersObject(h) {
	const out = {};
	if (!h) return out;
	for (const k of h.keys()) {
		const v = h.values(k);
		out[k] = v.length === 1 ? v[0] : v;
	}
	return out;
}

// a pipe closed early (| head) ends the dump quietly; every write is awaited so that the
// output is whole when the process ends
process.stdout.on("error", () => process.exit(0));
const out = (s) => new Promise((resolve) => process.stdout.write(s, resolve));

let nc;
try {
	nc = await connect({
		servers: opt.servers.split(",").filter((s) => s.length > 0),
		timeout: opt.timeout,
		reconnect: false,
		name: "js_stream.mjs",
	});
	const jsm = await nc.jetstreamManager({ timeout: opt.timeout });
	if (cmd === "create") {
		const si = await jsm.streams.add({
			name,
			subjects: opt.subjects.split(","),
			num_replicas: opt.replicas,
			retention: "limits",
			storage: "file",
		});
		await out(JSON.stringify(si) + "\n");
	} else if (cmd === "info") {
		const si = await jsm.streams.info(name);
		await out(JSON.stringify(si) + "\n");
	} else {
		const si = await jsm.streams.info(name);
		const first = si.state.first_seq, last = si.state.last_seq;
		let missing = 0;
		// a window of requests in flight, printed in sequence order
		const get = (seq) =>
			jsm.streams.getMessage(name, { seq }).catch((e) => {
				// a deleted sequence: JetStream answers "no message found" (10037)
				if (e && (e.api_error?.err_code === 10037 || /no message found/i.test(String(e.message))))
					return null;
				throw e;
			});
		for (let seq = first; seq <= last && si.state.messages > 0; seq += 64) {
			const batch = [];
			for (let s = seq; s < seq + 64 && s <= last; s++) batch.push(get(s));
			const lines = [];
			for (const m of await Promise.all(batch)) {
				if (!m) {
					missing++;
					continue;
				}
				lines.push(JSON.stringify({
					seq: m.seq,
					subject: m.subject,
					time: m.timestamp,
					headers: headersObject(m.header),
					payload_b64: Buffer.from(m.data).toString("base64"),
				}));
			}
			if (lines.length) await out(lines.join("\n") + "\n");
		}
		if (missing) process.stderr.write(`js_stream.mjs: ${missing} sequences of ${first}..${last} not stored\n`);
	}
	await nc.close();
} catch (e) {
	process.stderr.write(`js_stream.mjs: ${cmd} ${name} on ${opt.servers}: ${e && e.message ? e.message : e}\n`);
	if (nc) await nc.close().catch(() => {});
	process.exit(1);
}
