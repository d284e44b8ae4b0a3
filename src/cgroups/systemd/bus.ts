// One D-Bus connection over a unix socket: EXTERNAL authentication (the kernel tells the peer our uid),
// method calls matched to their replies by serial, and signals kept for whoever waits for them.
//
// Two kinds of peer: systemd's own socket (/run/systemd/private, root only: a direct connection, no
// bus daemon) and a message bus (dbus-daemon or dbus-broker at /run/dbus/system_bus_socket), where the
// first message must be Hello and a signal reaches us only through a match rule (AddMatch).
//
// AUTH and BEGIN go out together (sd-bus clients do that too); messages wait for the server's OK. The
// spec would allow sending them at once, but systemd's sd-bus server leaves a message that came in the
// same read as BEGIN in its buffer until more bytes arrive (seen in the VM lane: the first call was
// answered only when another was sent, or never), so calls made before OK are queued.
// The socket keeps Node's event loop alive only while an answer is awaited.
import { ownUidMap } from '../../host/user-namespace.js';
import { hostIdOf, parseIdMap } from '../../oci/id-map.js';
import { createConnection, type Socket } from 'node:net';
import { MESSAGE, decodeMessage, encodeMessage, messageLength, type Message } from './message.js';
import type { DBusValue } from './wire.js';

export interface BusAddress {
  /** Unix socket path. */
  path: string;
  /** A message bus (Hello first, AddMatch for signals), not a direct connection to systemd. */
  bus: boolean;
}

/**
 * The uid EXTERNAL authentication claims: the peer checks it against the uid the kernel reports for
 * our socket (SO_PEERCRED), which is our uid as seen from the peer's user namespace — the host's. Inside
 * a user namespace (rootless podman runs its runtime as root of one) getuid() is the mapped id, so it is
 * mapped back through /proc/self/uid_map ("inside outside count" lines). Pure over the map's text.
 */
export function hostUid(uid: number, uidMap: string): number {
  return hostIdOf(parseIdMap(uidMap), uid) ?? uid;
}

/** This process's uid on the host (see hostUid). */
export function ownHostUid(): number {
  const uid = process.geteuid?.() ?? 0;
  const map = ownUidMap();
  return map === undefined ? uid : hostUid(uid, map);
}

/** An error reply: `name` is the D-Bus error name, e.g. org.freedesktop.systemd1.NoSuchUnit. */
export class DBusError extends Error {
  override name = 'DBusError';
  constructor(readonly errorName: string, message: string) {
    super(message);
  }
}

/** The connection failed or was closed: `code` is the errno of connect(2) when there is one. */
export class BusConnectionError extends Error {
  override name = 'BusConnectionError';
  constructor(message: string, readonly code?: string) {
    super(message);
  }
}

export interface MethodCall {
  destination: string;
  path: string;
  interface: string;
  member: string;
  signature?: string;
  body?: DBusValue[];
}

interface Pending {
  resolve: (m: Message) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

interface SignalWaiter {
  match: (m: Message) => boolean;
  resolve: (m: Message) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** Signals kept for a waiter that registers after they came (a job may end before its reply is read). */
const KEPT_SIGNALS = 64;

export class BusConnection {
  private serial = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly waiters = new Set<SignalWaiter>();
  private readonly signals: Message[] = [];
  private input: Buffer = Buffer.alloc(0);
  private authenticated = false;
  /** The uid our EXTERNAL authentication claims. */
  private authUid = 0;
  /** Messages made before the server accepted our authentication. */
  private outbox: Buffer[] = [];
  private failure: Error | undefined;
  private readonly readiness: Promise<void>;
  private onReady: { resolve: () => void; reject: (e: Error) => void } | undefined;

  private constructor(private readonly socket: Socket, readonly address: BusAddress) {
    this.readiness = new Promise((resolve, reject) => { this.onReady = { resolve, reject }; });
    // A caller that never asks whether it is ready must not see an unhandled rejection.
    this.readiness.catch(() => {});
  }

  /** Connects and starts authenticating; calls may be made at once (they are queued behind it). */
  static open(address: BusAddress): BusConnection {
    const socket = createConnection({ path: address.path });
    const c = new BusConnection(socket, address);
    socket.on('data', (chunk: Buffer) => c.receive(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => c.fail(new BusConnectionError(`${address.path}: ${err.code ?? err.message}`, err.code)));
    socket.on('close', () => c.fail(new BusConnectionError(`${address.path}: the connection was closed${c.authenticated ? '' : ' during authentication'}`)));
    c.authUid = ownHostUid();
    socket.write(`\0AUTH EXTERNAL ${Buffer.from(String(c.authUid)).toString('hex')}\r\nBEGIN\r\n`);
    if (address.bus) {
      // Its answer (our unique name) is not needed; a failure shows in the calls after it.
      c.call({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member: 'Hello' }).catch(() => {});
    }
    c.updateRef();
    return c;
  }

  /** Resolves once the peer accepted our authentication; rejects with the reason it did not. */
  ready(): Promise<void> {
    return this.readiness;
  }

  /** Sends a method call; resolves with the reply, rejects with a DBusError for an error reply. */
  call(m: MethodCall, timeoutMs = 30_000): Promise<Message> {
    if (this.failure) return Promise.reject(this.failure);
    const serial = ++this.serial;
    const bytes = encodeMessage({ type: MESSAGE.call, flags: 0, serial, ...m });
    return new Promise<Message>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(serial);
        this.updateRef();
        reject(new BusConnectionError(`${this.address.path}: no answer to ${m.member} within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      timer.unref();
      this.pending.set(serial, { resolve, reject, timer });
      this.updateRef();
      if (this.authenticated) this.socket.write(bytes);
      else this.outbox.push(bytes);
    });
  }

  /** Resolves with the first signal `match` accepts, including one that came before this call. */
  waitForSignal(match: (m: Message) => boolean, what: string, timeoutMs = 30_000): Promise<Message> {
    const kept = this.signals.findIndex(match);
    if (kept >= 0) return Promise.resolve(this.signals.splice(kept, 1)[0]!);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<Message>((resolve, reject) => {
      const waiter: SignalWaiter = {
        match, resolve, reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          this.updateRef();
          reject(new BusConnectionError(`${this.address.path}: ${what} did not come within ${timeoutMs / 1000} s`));
        }, timeoutMs),
      };
      waiter.timer.unref();
      this.waiters.add(waiter);
      this.updateRef();
    });
  }

  close(): void {
    this.fail(new BusConnectionError(`${this.address.path}: the connection was closed by tsrun`));
  }

  private updateRef(): void {
    if (this.failure === undefined && (this.pending.size > 0 || this.waiters.size > 0 || !this.authenticated)) this.socket.ref();
    else this.socket.unref();
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.onReady?.reject(err);
    for (const p of this.pending.values()) { clearTimeout(p.timer); p.reject(err); }
    for (const w of this.waiters) { clearTimeout(w.timer); w.reject(err); }
    this.pending.clear();
    this.waiters.clear();
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    this.input = this.input.length === 0 ? chunk : Buffer.concat([this.input, chunk]);
    try {
      if (!this.authenticated && !this.readAuthReply()) return;
      for (;;) {
        const length = messageLength(this.input);
        if (length === undefined || this.input.length < length) return;
        const message = decodeMessage(this.input.subarray(0, length));
        this.input = this.input.subarray(length);
        this.dispatch(message);
      }
    } catch (err) {
      this.fail(new BusConnectionError(`${this.address.path}: ${(err as Error).message}`));
    }
  }

  /** Consumes the server's answer to AUTH; true once it said OK. */
  private readAuthReply(): boolean {
    const end = this.input.indexOf('\r\n');
    if (end < 0) {
      if (this.input.length > 4096) throw new Error('no end of line in the authentication reply');
      return false;
    }
    const line = this.input.toString('latin1', 0, end);
    this.input = this.input.subarray(end + 2);
    if (!line.startsWith('OK ')) {
      throw new Error(`authentication (EXTERNAL, uid ${this.authUid}) refused: ${JSON.stringify(line.slice(0, 200))}`);
    }
    this.authenticated = true;
    if (this.outbox.length > 0) this.socket.write(Buffer.concat(this.outbox));
    this.outbox = [];
    this.onReady?.resolve();
    this.updateRef();
    return true;
  }

  private dispatch(m: Message): void {
    if (m.type === MESSAGE.return || m.type === MESSAGE.error) {
      const p = m.replySerial === undefined ? undefined : this.pending.get(m.replySerial);
      if (!p) return;
      this.pending.delete(m.replySerial!);
      clearTimeout(p.timer);
      this.updateRef();
      if (m.type === MESSAGE.return) p.resolve(m);
      else p.reject(new DBusError(m.errorName ?? 'org.freedesktop.DBus.Error.Failed', typeof m.body[0] === 'string' ? m.body[0] : m.errorName ?? 'error'));
      return;
    }
    if (m.type !== MESSAGE.signal) return;
    for (const w of this.waiters) {
      if (!w.match(m)) continue;
      this.waiters.delete(w);
      clearTimeout(w.timer);
      this.updateRef();
      w.resolve(m);
      return;
    }
    this.signals.push(m);
    if (this.signals.length > KEPT_SIGNALS) this.signals.shift();
  }
}
