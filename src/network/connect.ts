// Reaching a port inside a container without iptables: a socket made *inside* its network namespace
// by the connector (tsrun-init connect: it setns's, connects, and passes the fd back over
// SCM_RIGHTS; Node never setns's), wrapped as a net.Socket, and `forwardPort`, a listener on the
// host's loopback spliced to such sockets. Works with --network none (the container's own lo), with
// bridges, and needs no rule in any firewall. The library wraps these as Container.connect and
// Container.forwardPort.
import { closeSync, openSync } from 'node:fs';
import { isIPv4, isIPv6, Socket, createServer, type Server } from 'node:net';
import { TsrunError } from '../errors.js';
import * as shim from '../native/shim.js';
import { processAlive } from '../state/status.js';
import { connectorConnect, connectorNamespaceFd, spawnConnector } from './connector-native.js';

/** Whose network namespace: a process (its pid, and its start time to refuse a reused pid) or a namespace file. */
export type NetnsTarget = { pid: number; startTime?: string } | { netnsPath: string };

export interface ConnectOptions {
  /** The address inside the namespace; default 127.0.0.1 (the container's own loopback). */
  address?: string;
  /** connect(2)'s limit; default 10 s. */
  timeoutMs?: number;
}

/** A running connector: many connections, one helper process. */
export interface Connector {
  /** A socket connected to `port` inside the namespace. */
  connect(port: number, opts?: ConnectOptions): Promise<Socket>;
  /** Ends the helper and reaps it. */
  close(): Promise<void>;
}

/** An fd naming the namespace: a pidfd (setns accepts one since Linux 5.8: no pid race) or the file. */
function namespaceFd(target: NetnsTarget): number {
  if ('netnsPath' in target) {
    try {
      return openSync(target.netnsPath, 'r');
    } catch (err) {
      throw new TsrunError(`network namespace ${target.netnsPath}: ${(err as NodeJS.ErrnoException).code}`, { file: target.netnsPath });
    }
  }
  const fd = shim.pidfdOpen(target.pid);
  // Checked after the pidfd exists: from here the pid cannot name another process.
  if (fd === undefined || (target.startTime !== undefined && !processAlive(target.pid, target.startTime))) {
    if (fd !== undefined) shim.closeFd(fd);
    throw new TsrunError(`process ${target.pid} is gone: its network namespace cannot be reached`);
  }
  return fd;
}

function addressBytes(address: string): { family: 4 | 6; bytes: Buffer } {
  if (isIPv4(address)) return { family: 4, bytes: Buffer.from(address.split('.').map(Number)) };
  if (isIPv6(address)) {
    const [head = '', tail = ''] = address.split('::');
    const words = (s: string): number[] => (s ? s.split(':').map((w) => parseInt(w, 16)) : []);
    const h = words(head);
    const t = words(tail);
    const all = address.includes('::') ? [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t] : h;
    const b = Buffer.alloc(16);
    all.forEach((w, i) => b.writeUInt16BE(w, i * 2));
    return { family: 6, bytes: b };
  }
  throw new TsrunError(`${JSON.stringify(address)} is not an IP address`);
}

/** A connector (tsrun-init connect) in the network namespace of `target`; the fd that named it is closed. */
function connectorIn(target: NetnsTarget): { pid: number; sock: number } {
  const nsFd = namespaceFd(target);
  try {
    return spawnConnector(nsFd);
  } finally {
    if ('netnsPath' in target) closeSync(nsFd); else shim.closeFd(nsFd);
  }
}

export function openConnector(target: NetnsTarget): Connector {
  const helper = connectorIn(target);
  // One request at a time on the socket: each reply answers the request before it.
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;
  return {
    connect(port, opts = {}) {
      if (closed) return Promise.reject(new TsrunError('the connector is closed'));
      if (!Number.isInteger(port) || port < 1 || port > 65535) return Promise.reject(new TsrunError(`${port} is not a port (1-65535)`));
      const address = opts.address ?? '127.0.0.1';
      const { family, bytes } = addressBytes(address);
      const where = `${family === 6 ? `[${address}]` : address}:${port}`;
      const next = queue.then(() => connectorConnect(helper.sock, family, bytes, port, opts.timeoutMs ?? 10_000, where));
      queue = next.catch(() => {});
      return next.then((fd) => new Socket({ fd, readable: true, writable: true, allowHalfOpen: true }));
    },
    async close() {
      if (closed) return;
      closed = true;
      await queue;
      shim.closeFd(helper.sock);
      await shim.waitPid(helper.pid).catch(() => 0);
    },
  };
}

/**
 * Fds of the network namespace of `target` and of the user namespace the connector joined with it
 * (the container's, for a user; tsrun's own, for root), from a connector that ends right after
 * (reaped in the background). Synchronous: create calls it while the init waits for its go-ahead,
 * the one moment a user may enter a container's namespaces before it execs — a non-dumpable init
 * refuses the user both /proc/PID/ns/* and setns by pidfd (a ptrace check), and it is dumpable only
 * until then.
 */
export function namespaceFds(target: NetnsTarget): { net: number; user: number } {
  const helper = connectorIn(target);
  try {
    const net = connectorNamespaceFd(helper.sock, 'net');
    try {
      return { net, user: connectorNamespaceFd(helper.sock, 'user') };
    } catch (err) {
      shim.closeFd(net);
      throw err;
    }
  } finally {
    shim.closeFd(helper.sock);
    void shim.waitPid(helper.pid).catch(() => 0);
  }
}

/** One socket connected to `port` inside the namespace, by a connector that ends right after. */
export async function connectInContainer(target: NetnsTarget, port: number, opts: ConnectOptions = {}): Promise<Socket> {
  const c = openConnector(target);
  try {
    return await c.connect(port, opts);
  } finally {
    await c.close();
  }
}

export interface ForwardedPort {
  host: '127.0.0.1';
  port: number;
  close(): Promise<void>;
}

/**
 * A listener on the host's 127.0.0.1 (`hostPort`, or a free port) whose every connection is spliced
 * to a new connection to `ctrPort` inside the namespace. A connection the container refuses is
 * closed at once (the error goes to `onError`). close() stops the listener, ends the connections and
 * the connector.
 */
export async function forwardPort(target: NetnsTarget, ctrPort: number, opts: ConnectOptions & { hostPort?: number; onError?: (err: Error) => void } = {}): Promise<ForwardedPort> {
  const connector = openConnector(target);
  const open = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => client.destroy());
    connector.connect(ctrPort, opts).then((inner) => {
      open.add(inner);
      inner.on('close', () => open.delete(inner));
      // Either side's error ends both; an end is passed on (half-close), so request/response protocols work.
      inner.on('error', () => { inner.destroy(); client.destroy(); });
      client.on('error', () => inner.destroy());
      client.on('close', () => inner.destroy());
      inner.on('close', () => client.destroy());
      client.pipe(inner);
      inner.pipe(client);
      client.resume();
    }, (err: Error) => {
      opts.onError?.(err);
      client.destroy();
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: opts.hostPort ?? 0 }, () => { server.off('error', reject); resolve(); });
    });
  } catch (err) {
    await connector.close();
    throw new TsrunError(`listening on 127.0.0.1:${opts.hostPort ?? 0}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    host: '127.0.0.1',
    port,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of open) s.destroy();
      });
      await connector.close();
    },
  };
}
