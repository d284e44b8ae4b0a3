// --console-socket: with process.terminal true, `create --console-socket SOCK` connects to SOCK and
// sends the pty master with SCM_RIGHTS (payload "/dev/ptmx", as runc does). Node cannot receive an
// fd, so one test only checks the connection and its payload with a node:net server; another (when
// python3 is there) receives the fd with recvmsg and reads what the container prints on its pty.
// Without --console-socket, a terminal config is refused naming process.terminal.
import { createServer, type Server } from 'node:net';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cannotRunContainers, containerTestHooks, poll, processesMatching, type TestBundle } from '../../helpers/bundle.js';
import {
  cgroup2Mount, cleanupLifecycle, createIn, defaultCgroupDir, makeRoot, parseJsonLines, rootEntries, scriptBundle, stateOf, tsrun,
  tsrunToFiles, uniqueId,
} from '../../helpers/lifecycle.js';

const skip = cannotRunContainers();
const hasPython = existsSync('/usr/bin/python3');

function terminalBundle(script: string): TestBundle {
  return scriptBundle(script, (spec) => { spec.process!.terminal = true; });
}

const RECEIVER = `
import os, select, socket, sys, time
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(1)
print("listening", flush=True)
c, _ = s.accept()
msg, fds, _flags, _addr = socket.recv_fds(c, 1024, 4)
print("payload=" + msg.decode(), flush=True)
print("fds=%d" % len(fds), flush=True)
end = time.time() + 15
while fds and time.time() < end:
    r, _, _ = select.select([fds[0]], [], [], 0.2)
    if r:
        try:
            data = os.read(fds[0], 4096)
        except OSError:
            break
        if not data:
            break
        sys.stdout.write("pty:" + data.decode(errors="replace").replace("\\r", ""))
        sys.stdout.flush()
`;

describe.skipIf(skip !== undefined)(`ops: --console-socket${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(cleanupLifecycle);
  const servers: Server[] = [];
  const children: { kill: (s?: NodeJS.Signals) => boolean }[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await new Promise((r) => s.close(() => r(undefined)));
    for (const c of children.splice(0)) c.kill('SIGKILL');
  });

  it('create --console-socket: the socket gets a connection carrying "/dev/ptmx", and the container is created', async () => {
    const root = makeRoot();
    const id = uniqueId('console');
    const bundle = terminalBundle('sleep 100000 & wait');
    const sock = join(bundle.dir, 'console.sock');
    const received: string[] = [];
    let connections = 0;
    const server = createServer((conn) => {
      connections += 1;
      let data = '';
      conn.on('data', (d) => { data += d.toString(); });
      conn.on('end', () => { received.push(data); });
      conn.on('error', () => { /* peer gone */ });
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(sock, r));

    const c = await createIn(root, bundle, id, ['--console-socket', sock]);
    expect(c.stderr()).toBe('');
    expect(c.exitCode).toBe(0);
    await poll(() => (received.length > 0 ? true : undefined), 5_000, 'the console socket connection to end');
    expect(connections).toBe(1);
    expect(received).toEqual(['/dev/ptmx']);
    const st = await stateOf(root, id);
    expect(st.status).toBe('created');
    expect(st.pid).toBeGreaterThan(0);
  });

  it.skipIf(!hasPython)('the fd received over the console socket is the pty master: the container\'s output on /dev/pts/0 arrives there', async () => {
    const root = makeRoot();
    const id = uniqueId('console-py');
    const bundle = terminalBundle('echo "tty=$(tty)"; echo hello-from-the-pty; sleep 100000');
    const sock = join(bundle.dir, 'console.sock');
    const receiverPath = join(bundle.dir, 'receiver.py');
    writeFileSync(receiverPath, RECEIVER);
    const py = execa('/usr/bin/python3', [receiverPath, sock], { reject: false, timeout: 30_000, killSignal: 'SIGKILL', stdin: 'ignore' });
    children.push(py);
    let out = '';
    py.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    await poll(() => (out.includes('listening') ? true : undefined), 5_000, `the python receiver to listen (got ${JSON.stringify(out)})`);

    const c = await createIn(root, bundle, id, ['--console-socket', sock]);
    expect(c.stderr()).toBe('');
    expect(c.exitCode).toBe(0);
    await poll(() => (out.includes('fds=') ? true : undefined), 5_000, 'the receiver to get the message');
    expect(out).toContain('payload=/dev/ptmx\n');
    expect(out).toContain('fds=1\n');
    expect((await stateOf(root, id)).status).toBe('created');

    const s = await tsrun(root, ['start', id]);
    expect(s.stderr).toBe('');
    expect(s.exitCode).toBe(0);
    await poll(() => (out.includes('hello-from-the-pty') ? true : undefined), 5_000, `the container's output on the pty (got ${JSON.stringify(out)})`);
    // Everything after "fds=1" is what the receiver read from the master.
    expect(out.slice(out.indexOf('fds=1\n') + 6).replace(/pty:/g, '')).toMatch(/^tty=\/dev\/pts\/0\nhello-from-the-pty\n/);
    // Nothing of it went to create's own stdout: the container's stdio is the pty.
    expect(c.stdout()).toBe('');
  });

  it('create of a terminal config without --console-socket fails naming process.terminal and leaves nothing', async () => {
    const root = makeRoot();
    const id = uniqueId('console-missing');
    const bundle = terminalBundle('sleep 100000 & wait');
    const c = await createIn(root, bundle, id);
    expect(c.exitCode).not.toBe(0);
    expect(c.stderr()).toMatch(/process\.terminal/);
    expect(c.stderr()).toMatch(/--console-socket/);
    const j = await tsrunToFiles(root, ['--log-format', 'json', 'create', '--bundle', bundle.dir, id], bundle.dir);
    expect(j.exitCode).not.toBe(0);
    const err = (parseJsonLines(j.stderr()) as { level: string; field?: string }[]).find((e) => e.level === 'error');
    expect(err?.field).toBe('process.terminal');
    expect(rootEntries(root)).toEqual([]);
    if (cgroup2Mount()) expect(existsSync(defaultCgroupDir(id))).toBe(false);
    expect(processesMatching(bundle.marker)).toEqual([]);
  });

  /** Starts the python receiver on a socket in the bundle dir; resolves with a getter of its output. */
  async function receiver(bundle: TestBundle): Promise<{ sock: string; out: () => string }> {
    const sock = join(bundle.dir, `console-${Math.random().toString(36).slice(2, 8)}.sock`);
    const receiverPath = join(bundle.dir, 'receiver.py');
    writeFileSync(receiverPath, RECEIVER);
    const py = execa('/usr/bin/python3', [receiverPath, sock], { reject: false, timeout: 30_000, killSignal: 'SIGKILL', stdin: 'ignore' });
    children.push(py);
    let out = '';
    py.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    await poll(() => (out.includes('listening') ? true : undefined), 5_000, `the python receiver to listen (got ${JSON.stringify(out)})`);
    return { sock, out: () => out };
  }

  it.skipIf(!hasPython)('run -d --console-socket: the container runs on the pty whose master the socket received', async () => {
    const root = makeRoot();
    const id = uniqueId('console-run');
    const bundle = terminalBundle('echo "tty=$(tty)"; sleep 100000');
    const rx = await receiver(bundle);
    const r = await tsrunToFiles(root, ['run', '-d', '--console-socket', rx.sock, '--bundle', bundle.dir, id], bundle.dir);
    expect(r.stderr()).toBe('');
    expect(r.exitCode).toBe(0);
    expect((await stateOf(root, id)).status).toBe('running');
    await poll(() => (rx.out().includes('tty=') ? true : undefined), 5_000, 'the container output on the pty');
    expect(rx.out()).toContain('payload=/dev/ptmx\nfds=1\n');
    expect(rx.out().replace(/pty:/g, '')).toMatch(/tty=\/dev\/pts\/0\n/);
  });

  it.skipIf(!hasPython)('exec -t -d --console-socket: the exec\'d process gets a pty whose master the socket received', async () => {
    const root = makeRoot();
    const id = uniqueId('console-exec');
    const bundle = scriptBundle('sleep 100000 & wait');
    const run = await tsrunToFiles(root, ['run', '-d', '--bundle', bundle.dir, id], bundle.dir);
    expect(run.exitCode).toBe(0);
    const rx = await receiver(bundle);
    const r = await tsrunToFiles(root, ['exec', '-t', '-d', '--console-socket', rx.sock, id, 'sh', '-c', 'echo "exec-tty=$(tty)"; sleep 3'], bundle.dir);
    expect(r.stderr()).toBe('');
    expect(r.exitCode).toBe(0);
    await poll(() => (rx.out().includes('exec-tty=') ? true : undefined), 5_000, `the exec output on the pty (got ${JSON.stringify(rx.out())})`);
    expect(rx.out()).toContain('payload=/dev/ptmx\nfds=1\n');
    expect(rx.out().replace(/pty:/g, '')).toMatch(/exec-tty=\/dev\/pts\/\d+\n/);
    // -t -d without a socket has nowhere to send the pty: refused.
    const noSock = await tsrunToFiles(root, ['exec', '-t', '-d', id, 'true'], bundle.dir);
    expect(noSock.exitCode).not.toBe(0);
    expect(noSock.stderr()).toMatch(/--console-socket/);
  });

});
