// slirp4netns's API socket (--api-socket): one JSON request per connection, one JSON reply. Used to
// publish ports (add_hostfwd): the helper then listens on the host side and forwards each connection
// to the container's 10.0.2.100. The socket is reached through an fd of the state directory
// (/proc/self/fd/N/NAME): a state dir's path may be longer than a socket path may be (108 bytes).
import { closeSync, openSync } from 'node:fs';
import { connect } from 'node:net';
import { TsrunError } from '../../errors.js';
import type { PortMapping } from '../options.js';

interface ApiReply { return?: Record<string, unknown>; error?: { desc?: string } }

function request(stateDir: string, socket: string, body: unknown, timeoutMs = 5_000): Promise<ApiReply> {
  const dirFd = openSync(stateDir, 'r');
  return new Promise<ApiReply>((resolve, reject) => {
    const s = connect({ path: `/proc/self/fd/${dirFd}/${socket}` });
    let got = '';
    const timer = setTimeout(() => s.destroy(new Error(`no reply within ${timeoutMs} ms`)), timeoutMs);
    s.on('connect', () => s.end(JSON.stringify(body)));
    s.on('data', (b: Buffer) => { got += b.toString(); });
    s.on('error', reject);
    s.on('close', () => {
      clearTimeout(timer);
      try { resolve(JSON.parse(got) as ApiReply); } catch { reject(new Error(`not JSON: ${JSON.stringify(got.slice(0, 200))}`)); }
    });
  }).finally(() => closeSync(dirFd));
}

/** Publishes one port: the host side (hostIP, default every address) to the container's port. */
export async function addHostForward(stateDir: string, socket: string, p: PortMapping): Promise<void> {
  const what = `-p ${p.hostIP ? `${p.hostIP}:` : ''}${p.hostPort}:${p.containerPort}/${p.protocol}`;
  let reply: ApiReply;
  try {
    reply = await request(stateDir, socket, {
      execute: 'add_hostfwd', arguments: { proto: p.protocol, host_addr: p.hostIP ?? '0.0.0.0', host_port: p.hostPort, guest_port: p.containerPort },
    });
  } catch (err) {
    throw new TsrunError(`${what}: slirp4netns's API socket: ${(err as Error).message}`, { field: '-p' });
  }
  if (reply.error || !reply.return) {
    // libslirp says only that it failed: the usual cause is a host port that something else holds.
    throw new TsrunError(`${what}: slirp4netns could not listen on the host side (${reply.error?.desc ?? 'no reply'}): is port ${p.hostPort}/${p.protocol} taken?`, { field: '-p' });
  }
}
