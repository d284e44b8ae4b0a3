// The container on a user-mode network: slirp4netns, started once the container's namespaces exist
// and its init waits (before it can exec), with the tap device configured (10.0.2.100/24, gateway
// and DNS 10.0.2.2/.3) and its ports published before the container runs. It is a process of the
// user's own, in tsrun's namespaces, with its own session (it outlives `create`), stopped at delete.
//
// Recorded as a CNI network is (network.json, record.ts): the record comes first (`starting`), then
// the helper is spawned through a gate (args.ts, GATE) and its pid recorded *before* the gate lets
// it become slirp4netns, so a tsrun killed at any moment leaves either nothing running or a
// recorded pid; `started` once it is ready with every port published.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { TsrunError } from '../../errors.js';
import type { TraceSink } from '../../process/trace.js';
import { readProcStat } from '../../state/status.js';
import type { PortMapping } from '../options.js';
import { writeNetworkRecord, type UserModeRecord } from '../record.js';
import { addHostForward } from './api.js';
import { trackHelper } from './children.js';
import { GATE, slirpArgs, slirpNetworkFlags, TAP_NAME } from './args.js';
import { lastLogLine, stopUserModeNetwork } from './stop.js';

export interface UserModeOptions {
  stateDir: string;
  containerId: string;
  /** The container's init (waiting). */
  pid: number;
  /** Its network and user namespaces (connect.ts, namespaceFds): slirp4netns joins them by fd; the caller closes them. */
  namespaces: { net: number; user: number };
  program: string;
  allowHostLoopback: boolean;
  ports: readonly PortMapping[];
  trace: TraceSink;
  readyTimeoutMs?: number;
}

const WHY = 'a user-mode TCP/IP stack (libslirp) in a process of the user\'s: it makes tap0 in the container\'s namespace and turns the container\'s packets into ordinary sockets of the user, so no root, bridge or firewall rule is needed; 10.0.2.2 is the gateway, 10.0.2.3 the DNS forwarder';

/** Resolves once slirp4netns writes to its ready fd; rejects when it exits first or takes too long. */
function whenReady(ready: Readable, exited: Promise<number | null>, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready within ${timeoutMs} ms`)), timeoutMs);
    ready.once('data', () => { clearTimeout(timer); resolve(); });
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`exited (${code ?? 'signal'}) before it was ready`)); });
  });
}

export async function startUserModeNetwork(o: UserModeOptions): Promise<UserModeRecord> {
  const record: UserModeRecord = {
    driver: 'slirp4netns', network: 'slirp4netns', containerId: o.containerId, ifname: TAP_NAME, ports: [...o.ports],
    allowHostLoopback: o.allowHostLoopback, phase: 'starting', apiSocket: 'slirp4netns.sock', log: 'slirp4netns.log',
  };
  writeNetworkRecord(o.stateDir, record);
  const t0 = performance.now();
  try {
    const ns = o.namespaces;
    const log = openSync(join(o.stateDir, record.log), 'w', 0o600);
    let child: ChildProcess;
    try {
      child = spawn(GATE[0]!, [...GATE.slice(1), o.program, ...slirpArgs({ allowHostLoopback: o.allowHostLoopback, apiSocket: record.apiSocket })], {
        cwd: o.stateDir, detached: true, stdio: ['pipe', log, log, 'pipe', ns.net, ns.user],
      });
    } finally {
      closeSync(log);
    }
    // A spawn that fails, or a gate that dies before reading its go, reports through 'error'
    // events: handled here, they end in the readiness wait below rather than in an uncaught throw.
    const exited = new Promise<number | null>((resolve) => { child.once('exit', resolve); child.once('error', () => resolve(null)); });
    child.stdin!.on('error', () => {});
    if (child.pid === undefined) throw new Error('could not be spawned');
    child.unref();
    trackHelper(child, exited);
    record.helper = { pid: child.pid, startTime: readProcStat(child.pid)?.startTime ?? '' };
    writeNetworkRecord(o.stateDir, record);
    child.stdin!.end('go\n');
    const ready = child.stdio[3] as Readable;
    ready.on('error', () => {});
    try {
      await whenReady(ready, exited, o.readyTimeoutMs ?? 10_000);
    } finally {
      ready.destroy();
    }
    o.trace.event({
      who: 'parent', group: 'network', title: `slirp4netns ${slirpNetworkFlags(o.allowHostLoopback).join(' ')} (pid ${child.pid}): tap0 10.0.2.100/24 via 10.0.2.2`,
      why: WHY, result: 'ok', durationMs: performance.now() - t0,
    });
    for (const p of o.ports) {
      const t1 = performance.now();
      await addHostForward(o.stateDir, record.apiSocket, p);
      o.trace.event({
        who: 'parent', group: 'network', title: `slirp4netns add_hostfwd ${p.hostIP ?? '0.0.0.0'}:${p.hostPort} -> 10.0.2.100:${p.containerPort}/${p.protocol}`,
        why: 'published port: slirp4netns listens on the host side as the user and opens a connection to the container for each one it accepts', result: 'ok', durationMs: performance.now() - t1,
      });
    }
    record.phase = 'started';
    writeNetworkRecord(o.stateDir, record);
    return record;
  } catch (err) {
    // What was started goes (the helper, the record); the create is failing.
    const logged = err instanceof TsrunError ? '' : lastLogLine(o.stateDir, record);
    const why = err instanceof TsrunError ? err.message : `slirp4netns ${(err as Error).message}${logged ? `: ${logged}` : ''}`;
    await stopUserModeNetwork(o.stateDir, record, o.trace).catch(() => {});
    throw err instanceof TsrunError ? err : new TsrunError(`--network slirp4netns: ${why}`, { field: '--network' });
  }
}
