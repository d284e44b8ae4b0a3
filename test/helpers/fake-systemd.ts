// A stand-in for systemd's manager on a unix socket, speaking real D-Bus (the driver's own wire code):
// EXTERNAL authentication, Properties.Get(Version), StartTransientUnit / StopUnit with their jobs'
// JobRemoved signals, SetUnitProperties, ResetFailedUnit, and a bus daemon's Hello / AddMatch. For unit tests of the
// systemd cgroup driver on hosts without systemd as PID 1; the VM lane tests it against the real one.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MESSAGE, decodeMessage, encodeMessage, messageLength, type Message } from '../../src/cgroups/systemd/message.js';
import { Variant, type DBusValue } from '../../src/cgroups/systemd/wire.js';

export interface FakeSystemdOptions {
  /** Answer AUTH with this line instead of OK. */
  authReply?: string;
  /** Units that exist (StartTransientUnit → UnitExists until ResetFailedUnit). */
  existing?: Set<string>;
  /** The result each job ends with (default "done"). */
  jobResult?: (member: string, unit: string) => string;
  /** Send JobRemoved before the method's reply. */
  signalFirst?: boolean;
  /** The manager's ControlGroup property (default "/"). */
  controlGroup?: string;
  /** A loaded scope's Result property (default "success"). */
  scopeResult?: (unit: string) => string;
}

export interface FakeSystemd {
  path: string;
  /** Every method call received, as "Interface.Member(first arg)". */
  calls: string[];
  /** The properties of the last StartTransientUnit or SetUnitProperties, by name. */
  lastProperties: Map<string, Variant>;
  /** The uid each connection's AUTH EXTERNAL claimed. */
  authUids: number[];
  close(): Promise<void>;
}

export async function fakeSystemd(opts: FakeSystemdOptions = {}): Promise<FakeSystemd> {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-fake-systemd-'));
  const path = join(dir, 'private');
  const calls: string[] = [];
  const lastProperties = new Map<string, Variant>();
  const authUids: number[] = [];
  const existing = opts.existing ?? new Set<string>();
  let serial = 1000;
  let job = 0;
  const sockets = new Set<Socket>();
  const unitPaths = new Map<string, string>();

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    let input = Buffer.alloc(0);
    let authed = false;
    /** As systemd's sd-bus server: bytes that came in the same read as BEGIN wait for the next read. */
    let held = false;
    const send = (m: Omit<Message, 'serial' | 'flags' | 'signature' | 'body'> & { signature?: string; body?: DBusValue[] }): void => {
      socket.write(encodeMessage({ flags: 0, serial: ++serial, ...m }));
    };
    const reply = (to: Message, signature = '', body: DBusValue[] = []): void => send({ type: MESSAGE.return, replySerial: to.serial, signature, body });
    const error = (to: Message, name: string, text: string): void => send({ type: MESSAGE.error, replySerial: to.serial, errorName: name, signature: 's', body: [text] });
    const jobFor = (m: Message, unit: string): void => {
      const id = ++job;
      const jobPath = `/org/freedesktop/systemd1/job/${id}`;
      const removed = (): void => send({ type: MESSAGE.signal, path: '/org/freedesktop/systemd1', interface: 'org.freedesktop.systemd1.Manager', member: 'JobRemoved', signature: 'uoss', body: [id, jobPath, unit, opts.jobResult?.(m.member!, unit) ?? 'done'] });
      if (opts.signalFirst) removed();
      reply(m, 'o', [jobPath]);
      if (!opts.signalFirst) removed();
    };
    const handle = (m: Message): void => {
      calls.push(`${m.interface}.${m.member}(${typeof m.body[0] === 'string' ? m.body[0] : ''})`);
      switch (m.member) {
        case 'Hello': return reply(m, 's', [':1.42']);
        case 'AddMatch': return reply(m);
        case 'Get': {
          if (m.body[0] === 'org.freedesktop.systemd1.Scope') {
            const unit = [...unitPaths].find(([, path]) => path === m.path)?.[0] ?? '';
            return reply(m, 'v', [new Variant('s', opts.scopeResult?.(unit) ?? 'success')]);
          }
          return reply(m, 'v', [new Variant('s', m.body[1] === 'ControlGroup' ? opts.controlGroup ?? '/' : '252.38-1~deb12u1')]);
        }
        case 'GetUnit': {
          const unit = String(m.body[0]);
          if (!existing.has(unit)) return error(m, 'org.freedesktop.systemd1.NoSuchUnit', `Unit ${unit} not loaded.`);
          // systemd escapes the unit's name into its object path; a number stands in for that here.
          if (!unitPaths.has(unit)) unitPaths.set(unit, `/org/freedesktop/systemd1/unit/u${unitPaths.size + 1}`);
          return reply(m, 'o', [unitPaths.get(unit)!]);
        }
        case 'StartTransientUnit': {
          const unit = String(m.body[0]);
          if (existing.has(unit)) return error(m, 'org.freedesktop.systemd1.UnitExists', `Unit ${unit} was already loaded or has a fragment file.`);
          lastProperties.clear();
          for (const [name, value] of m.body[2] as [string, Variant][]) lastProperties.set(name, value);
          existing.add(unit);
          return jobFor(m, unit);
        }
        case 'StopUnit': {
          const unit = String(m.body[0]);
          if (!existing.has(unit)) return error(m, 'org.freedesktop.systemd1.NoSuchUnit', `Unit ${unit} not loaded.`);
          existing.delete(unit);
          return jobFor(m, unit);
        }
        case 'SetUnitProperties': {
          const unit = String(m.body[0]);
          if (!existing.has(unit)) return error(m, 'org.freedesktop.systemd1.NoSuchUnit', `Unit ${unit} not loaded.`);
          lastProperties.clear();
          for (const [name, value] of m.body[2] as [string, Variant][]) lastProperties.set(name, value);
          return reply(m);
        }
        case 'ResetFailedUnit': {
          const unit = String(m.body[0]);
          if (!existing.delete(unit)) return error(m, 'org.freedesktop.systemd1.NoSuchUnit', `Unit ${unit} not loaded.`);
          return reply(m);
        }
        default: return error(m, 'org.freedesktop.DBus.Error.UnknownMethod', `no ${m.member}`);
      }
    };
    socket.on('data', (chunk: Buffer) => {
      input = Buffer.concat([input, chunk]);
      if (!authed) {
        const begin = input.indexOf('BEGIN\r\n');
        if (begin < 0) return;
        if (input[0] !== 0 || !input.toString('latin1', 1, begin).startsWith('AUTH EXTERNAL ')) { socket.destroy(); return; }
        authUids.push(Number(Buffer.from(/AUTH EXTERNAL ([0-9a-f]*)/.exec(input.toString('latin1', 1, begin))?.[1] ?? '', 'hex').toString()));
        socket.write(`${opts.authReply ?? 'OK 0123456789abcdef0123456789abcdef'}\r\n`);
        if (opts.authReply) { socket.end(); return; }
        authed = true;
        input = input.subarray(begin + 7);
        if (input.length > 0) { held = true; return; }
      } else if (held) {
        held = false;
      }
      for (;;) {
        const length = messageLength(input);
        if (length === undefined || input.length < length) return;
        handle(decodeMessage(input.subarray(0, length)));
        input = input.subarray(length);
      }
    });
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    path, calls, lastProperties, authUids,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
