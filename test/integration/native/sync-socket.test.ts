// The receiving side of SCM_RIGHTS in libtsrun-shim.so (recv_with_fd, behind tsrun_recv_report): a
// report arrives with at most one fd, and a message that is not exactly one report with at most one fd
// fails with EPROTO *and closes every fd that came with it*: nothing the other end sends may stay open
// in tsrun. The other end here is python3 on a SOCK_SEQPACKET socketpair, sending what tsrun-init never
// would (two fds, three fds, a short message), each fd one end of a pipe the test then looks for among
// its own open fds.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, readdirSync, readlinkSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { loadKoffi } from '../../../src/native/koffi.js';
import { recvReportWithin } from '../../../src/native/shim.js';
import { cannotRunContainers } from '../../helpers/bundle.js';

const skip = cannotRunContainers() ?? (existsSync('/usr/bin/python3') ? undefined : 'python3 missing');
const REPORT_BYTES = 64; // sizeof(struct tsrun_report): 4 x 4 + 2 x 8 + 32

// python3 on fd 3 (the socket): sends one message of argv[1] bytes with argv[2] fds, each one end of a
// fresh pipe, and prints the pipes' names as /proc shows them ("pipe:[inode]").
const SENDER = `
import array, os, socket, sys
s = socket.socket(fileno=3)
size, count = int(sys.argv[1]), int(sys.argv[2])
fds = []
for _ in range(count):
    r, w = os.pipe()
    fds.append(r)
s.sendmsg([bytes([1]) + bytes(size - 1)], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array('i', fds))] if fds else [])
print(' '.join(os.readlink('/proc/self/fd/%d' % fd) for fd in fds))
`;

type Socketpair = (domain: number, type: number, protocol: number, sv: number[]) => number;
let socketpair: Socketpair | undefined;
function seqpacketPair(): [number, number] {
  socketpair ??= loadKoffi().load('libc.so.6').func('int socketpair(int domain, int type, int protocol, _Out_ int *sv)') as Socketpair;
  const sv = [-1, -1];
  const SOCK_SEQPACKET = 5, SOCK_CLOEXEC = 0o2000000;
  expect(socketpair!(1 /* AF_UNIX */, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)).toBe(0);
  return [sv[0]!, sv[1]!];
}

const opened: number[] = [];
afterEach(() => {
  for (const fd of opened.splice(0)) { try { closeSync(fd); } catch { /* closed already */ } }
});

/** This process's fds that are one of `names` ("pipe:[inode]"). */
function openAmong(names: readonly string[]): string[] {
  const found: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (names.includes(target)) found.push(`fd ${fd} -> ${target}`);
    } catch { /* the directory's own fd, gone */ }
  }
  return found;
}

/** Sends one message of `size` bytes with `count` fds; the pipes' names. */
function send(size: number, count: number): { ours: number; pipes: string[] } {
  const [ours, theirs] = seqpacketPair();
  opened.push(ours, theirs);
  const py = spawnSync('/usr/bin/python3', ['-c', SENDER, String(size), String(count)], { stdio: ['ignore', 'pipe', 'pipe', theirs], encoding: 'utf8', timeout: 10_000 });
  expect(py.stderr).toBe('');
  expect(py.status).toBe(0);
  return { ours, pipes: py.stdout.trim().split(' ').filter(Boolean) };
}

describe.skipIf(skip)('sync socket: receiving a report and its fd', () => {
  it('a report with one fd: the fd arrives, open', () => {
    const { ours, pipes } = send(REPORT_BYTES, 1);
    const r = recvReportWithin(ours, 5_000);
    if (r === 'timeout' || r === undefined) throw new Error(`no report: ${String(r)}`);
    expect(r.kind).toBe(1);
    expect(r.fd).toBeGreaterThanOrEqual(0);
    opened.push(r.fd);
    expect(readlinkSync(`/proc/self/fd/${r.fd}`)).toBe(pipes[0]);
  });

  it('a report without an fd: fd -1', () => {
    const { ours } = send(REPORT_BYTES, 0);
    const r = recvReportWithin(ours, 5_000);
    if (r === 'timeout' || r === undefined) throw new Error(`no report: ${String(r)}`);
    expect(r.fd).toBe(-1);
  });

  it.each([
    ['two fds with one report', REPORT_BYTES, 2],
    ['three fds (more than the control buffer holds: MSG_CTRUNC)', REPORT_BYTES, 3],
    ['a short report with an fd', REPORT_BYTES - 8, 1],
    ['a longer message than a report with an fd (MSG_TRUNC)', REPORT_BYTES + 8, 1],
  ])('%s: EPROTO, and none of the fds stays open', (_what, size, count) => {
    const { ours, pipes } = send(size, count);
    expect(pipes).toHaveLength(count);
    expect(() => recvReportWithin(ours, 5_000)).toThrow("reading the container's sync socket: EPROTO");
    expect(openAmong(pipes)).toEqual([]);
  });

  it('the other end gone without a word: EOF', () => {
    const [ours, theirs] = seqpacketPair();
    opened.push(ours);
    closeSync(theirs);
    expect(recvReportWithin(ours, 5_000)).toBeUndefined();
  });
});
