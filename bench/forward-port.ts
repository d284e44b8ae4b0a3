// Part of `make bench-network` (bench/network-bench.sh bundles this file with esbuild and runs it):
// the library's forwardPort against CNI's portmap, to the same busybox httpd in a container on a
// bridge, and the bridge address itself as the floor. Latency: N sequential small GETs, each a new
// connection (curl's URL globbing); throughput: a 64 MiB GET, several times. Medians.
//
//   node forward-port.mjs STATE_ROOT ID NETNS PORTMAP_PORT N ROUNDS
//
// The forwarder's listener is on this (the machine's) 127.0.0.1; the portmap and bridge clients run in
// the test's network namespace NETNS, where the bridge and the rules are.
import { spawn } from 'node:child_process';
import { containerNetwork } from '../src/network/container-network.js';

const [root, id, netns, portmapPort, nArg, roundsArg] = process.argv.slice(2);
if (!root || !id || !netns || !portmapPort) {
  console.error('usage: forward-port.mjs STATE_ROOT ID NETNS PORTMAP_PORT [N] [ROUNDS]');
  process.exit(2);
}
const n = Number(nArg ?? 200);
const rounds = Number(roundsArg ?? 5);

function run(argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${argv.join(' ')}: exit ${code}`))));
  });
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; };
const curl = (where: 'here' | 'netns', url: string, format: string): string[] => [...(where === 'netns' ? ['nsenter', `--net=${netns}`, '--'] : []), 'curl', '-sf', '-o', '/dev/null', '-w', format, url];

async function latencyMs(where: 'here' | 'netns', base: string): Promise<number> {
  const out = await run(curl(where, `${base}/small?[1-${n}]`, '%{time_total}\\n'));
  return median(out.trim().split('\n').map((l) => Number(l) * 1000));
}

async function throughputMiBs(where: 'here' | 'netns', base: string): Promise<number> {
  const speeds: number[] = [];
  for (let i = 0; i < rounds; i++) speeds.push(Number(await run(curl(where, `${base}/big`, '%{speed_download}'))) / (1 << 20));
  return median(speeds);
}

const net = containerNetwork(root, id);
if (!net.ip) throw new Error(`container ${id} has no address on a CNI network`);
const fwd = await net.forwardPort(8080);
try {
  const paths: [string, 'here' | 'netns', string][] = [
    ['bridge address (no NAT, the floor)', 'netns', `http://${net.ip}:8080`],
    ['CNI portmap (DNAT on 127.0.0.1)', 'netns', `http://127.0.0.1:${portmapPort}`],
    ['forwardPort (library, no iptables)', 'here', `http://${fwd.host}:${fwd.port}`],
  ];
  const rows: { path: string; latencyMs: number; throughputMiBs: number }[] = [];
  for (const [path, where, base] of paths) {
    await latencyMs(where, base); // warm-up
    rows.push({ path, latencyMs: await latencyMs(where, base), throughputMiBs: await throughputMiBs(where, base) });
  }
  console.log(JSON.stringify({ n, rounds, rows }));
} finally {
  await fwd.close();
}
