// connectInContainer and forwardPort (src/network/connect.ts): a socket made inside a container's
// network namespace by tsrun-init's connector and handed over with SCM_RIGHTS, and a loopback
// listener spliced to such sockets. The container here has only its lo (no CNI): nothing else could
// reach its port.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cannotRunContainers, containerTestHooks, makeBundle, poll, runTsrun, sh, type TestBundle } from '../../helpers/bundle.js';
import { httpGet, request } from '../../helpers/http.js';
import { connectInContainer, forwardPort, openConnector } from '../../../src/network/connect.js';
import { readProcStat } from '../../../src/state/status.js';

const skip = cannotRunContainers();

async function startHttpd(): Promise<{ bundle: TestBundle; id: string; pid: number }> {
  const bundle = makeBundle({
    prepareRootfs: (rootfs) => { mkdirSync(join(rootfs, 'www')); writeFileSync(join(rootfs, 'www/index.html'), 'hello from the container\n'); },
    mutate: (s, b) => { s.process!.args = sh('exec httpd -f -p 8080 -h /www </dev/null >/dev/null 2>&1', b.marker); },
  });
  const id = `${bundle.marker}-c`;
  const pidFile = join(bundle.dir, 'pid');
  const r = await runTsrun(['run', '-d', '--pid-file', pidFile, '--bundle', bundle.dir, id]);
  expect(r.stderr).toBe('');
  const pid = Number(readFileSync(pidFile, 'utf8'));
  return { bundle, id, pid };
}

/** tsrun-init connect processes that are children of this test process. */
const connectors = (): number => {
  let n = 0;
  for (const p of readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) {
    try { if (readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith('tsrun-init\0connect')) n++; } catch { /* gone */ }
  }
  return n;
};

describe.skipIf(skip !== undefined)(`connectInContainer and forwardPort${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  const hooks = containerTestHooks({ beforeEach, afterEach });
  let running: { id: string } | undefined;
  afterEach(async () => { if (running) await runTsrun(['delete', '--force', running.id]); running = undefined; });

  it('connect: a socket to the container\'s own 127.0.0.1:8080, which the host cannot reach', async () => {
    const c = await startHttpd();
    running = c;
    hooks.extraMarkers.push(c.id);
    // Not the host's port: nothing listens on the host's 8080 (a different namespace).
    await poll(async () => (await connectInContainer({ pid: c.pid }, 8080).then((s) => { s.destroy(); return true; }, () => undefined)), 5_000, 'httpd listening');
    const sock = await connectInContainer({ pid: c.pid, startTime: readProcStat(c.pid)!.startTime }, 8080);
    const reply = await request(sock);
    expect(reply).toMatch(/^HTTP\/1\.[01] 200 OK/);
    expect(reply).toContain('hello from the container');
    const hostSide = await new Promise<string>((resolve) => { const s = netConnect(8080, '127.0.0.1'); s.on('connect', () => { s.destroy(); resolve('connected'); }); s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error')); });
    expect(hostSide).toBe('ECONNREFUSED');
    expect(connectors()).toBe(0);
  });

  it('connect by namespace file; a closed port and a gone process are errors naming why', async () => {
    const c = await startHttpd();
    running = c;
    await poll(async () => (await connectInContainer({ pid: c.pid }, 8080).then((s) => { s.destroy(); return true; }, () => undefined)), 5_000, 'httpd listening');
    const sock = await connectInContainer({ netnsPath: `/proc/${c.pid}/ns/net` }, 8080);
    expect(await request(sock)).toContain('hello from the container');
    await expect(connectInContainer({ pid: c.pid }, 9)).rejects.toThrow('connecting to 127.0.0.1:9 inside the container\'s network namespace: ECONNREFUSED from connect');
    await expect(connectInContainer({ pid: c.pid, startTime: '1' }, 8080)).rejects.toThrow(`process ${c.pid} is gone`);
    await runTsrun(['delete', '--force', c.id]);
    running = undefined;
    const after = await connectInContainer({ pid: c.pid }, 8080).catch((e: Error) => e);
    expect(String(after)).toMatch(/is gone|ESRCH/);
    expect(connectors()).toBe(0);
  });

  it('forwardPort: a loopback port of the host that reaches the container\'s, many connections at once; close() ends it all', async () => {
    const c = await startHttpd();
    running = c;
    await poll(async () => (await connectInContainer({ pid: c.pid }, 8080).then((s) => { s.destroy(); return true; }, () => undefined)), 5_000, 'httpd listening');
    const fwd = await forwardPort({ pid: c.pid }, 8080);
    expect(fwd.host).toBe('127.0.0.1');
    expect(fwd.port).toBeGreaterThan(0);
    const bodies = await Promise.all(Array.from({ length: 20 }, () => httpGet(fwd.port)));
    expect(new Set(bodies)).toEqual(new Set(['hello from the container\n']));
    expect(connectors()).toBe(1); // one helper serves every connection
    await fwd.close();
    await expect(httpGet(fwd.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(connectors()).toBe(0);
  });

  it('forwardPort to a closed port: the client is closed, the error reported', async () => {
    const c = await startHttpd();
    running = c;
    const errors: Error[] = [];
    const fwd = await forwardPort({ pid: c.pid }, 9, { onError: (e) => errors.push(e) });
    await expect(httpGet(fwd.port)).rejects.toBeDefined();
    await fwd.close();
    expect(errors[0]?.message).toMatch(/127\.0\.0\.1:9 .*ECONNREFUSED/);
  });

  it('a connector serves requests one after another', async () => {
    const c = await startHttpd();
    running = c;
    await poll(async () => (await connectInContainer({ pid: c.pid }, 8080).then((s) => { s.destroy(); return true; }, () => undefined)), 5_000, 'httpd listening');
    const conn = openConnector({ pid: c.pid });
    const socks = await Promise.all([1, 2, 3].map(() => conn.connect(8080)));
    const replies = await Promise.all(socks.map((s) => request(s)));
    expect(replies.every((r) => r.includes('hello from the container'))).toBe(true);
    await conn.close();
    expect(connectors()).toBe(0);
  });
});
