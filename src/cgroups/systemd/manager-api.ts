// The few calls of systemd's manager object (org.freedesktop.systemd1.Manager on
// /org/freedesktop/systemd1, see org.freedesktop.systemd1(5)) that a cgroup driver needs, over a
// BusConnection: start a transient unit and stop a unit, each waiting for its job's end (the
// JobRemoved signal), reset a failed unit, and the manager's version.
//
// How systemd is reached: as root, its own socket /run/systemd/private first (no bus daemon between,
// and it sends every signal to every direct client); then the system bus ($DBUS_SYSTEM_BUS_ADDRESS, or
// /run/dbus/system_bus_socket), where a match rule asks the bus for JobRemoved. runc's go-systemd tries
// them in the other order; either reaches the same manager.
//
// A user (not the host's root, or root of a user namespace as rootless podman runs its runtime) talks
// to its own manager, user@UID.service, as runc and crun do in rootless mode: its private socket
// $XDG_RUNTIME_DIR/systemd/private first (there whenever the manager runs, no dbus-user-session
// needed), then the session bus ($DBUS_SESSION_BUS_ADDRESS, else $XDG_RUNTIME_DIR/bus).
import { statSync } from 'node:fs';
import { BusConnection, BusConnectionError, DBusError, type BusAddress } from './bus.js';
import type { Message } from './message.js';
import { Variant, type DBusValue } from './wire.js';

const DESTINATION = 'org.freedesktop.systemd1';
const PATH = '/org/freedesktop/systemd1';
const MANAGER = 'org.freedesktop.systemd1.Manager';
export const PRIVATE_SOCKET = '/run/systemd/private';
export const SYSTEM_BUS_SOCKET = '/run/dbus/system_bus_socket';
const JOB_REMOVED_RULE = `type='signal',sender='${DESTINATION}',path='${PATH}',interface='${MANAGER}',member='JobRemoved'`;

/** sd_booted(3): systemd is the init of this machine (or container) when this is a directory. */
export const BOOTED = '/run/systemd/system';

export function systemdBooted(): boolean {
  try {
    return statSync(BOOTED).isDirectory();
  } catch {
    return false;
  }
}

/** A unit property as StartTransientUnit takes it: a name and a variant. */
export type UnitProperty = [name: string, value: Variant];

/** The addresses to try, in order: systemd's private socket (root only), then the system bus. */
export function systemdAddresses(env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? 0): BusAddress[] {
  const fromEnv = /^unix:path=([^,;]+)/.exec(env.DBUS_SYSTEM_BUS_ADDRESS ?? '')?.[1];
  const bus: BusAddress = { path: fromEnv ?? SYSTEM_BUS_SOCKET, bus: true };
  return uid === 0 ? [{ path: PRIVATE_SOCKET, bus: false }, bus] : [bus];
}

/** A D-Bus address's unix socket: "unix:path=P" → P, "unix:abstract=N" → "\0N" (Node's form); undefined otherwise. */
export function unixSocketOf(address: string | undefined): string | undefined {
  for (const part of (address ?? '').split(';')) {
    const m = /^unix:(.*)$/.exec(part.trim());
    const keys = new Map((m?.[1] ?? '').split(',').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const));
    if (keys.get('path')) return keys.get('path');
    if (keys.get('abstract')) return `\0${keys.get('abstract')}`;
  }
  return undefined;
}

/**
 * The addresses of a user's own manager, in order: its private socket, then the session bus. Empty
 * when neither $XDG_RUNTIME_DIR nor $DBUS_SESSION_BUS_ADDRESS says where they are.
 */
export function userManagerAddresses(env: NodeJS.ProcessEnv = process.env): BusAddress[] {
  const runtime = env.XDG_RUNTIME_DIR !== undefined && env.XDG_RUNTIME_DIR !== '' ? env.XDG_RUNTIME_DIR : undefined;
  const session = unixSocketOf(env.DBUS_SESSION_BUS_ADDRESS) ?? (runtime ? `${runtime}/bus` : undefined);
  return [
    ...(runtime ? [{ path: `${runtime}/systemd/private`, bus: false }] : []),
    ...(session ? [{ path: session, bus: true }] : []),
  ];
}

/** "252.38-1~deb12u1" or "v245.4-1.fc32" → 252, 245; -1 when there is no number. */
export function parseSystemdVersion(text: string): number {
  const m = /^"?v?(\d+)/.exec(text);
  return m ? Number(m[1]) : -1;
}

/** The result of a job: "done" when it did what was asked; "failed", "canceled", "timeout"… otherwise. */
export type JobResult = string;

export class SystemdManager {
  private constructor(private readonly bus: BusConnection, private readonly versionReply: Promise<number>) {}

  /**
   * Connects to the first address that authenticates us. The version query (and, on a bus, Hello and
   * the match rule for JobRemoved) go out as soon as it has: its answer is awaited only by version().
   */
  static async connect(addresses: BusAddress[] = systemdAddresses()): Promise<SystemdManager> {
    const reasons: string[] = [];
    for (const address of addresses) {
      const bus = BusConnection.open(address);
      if (address.bus) {
        void bus.call({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member: 'AddMatch', signature: 's', body: [JOB_REMOVED_RULE] }).catch(() => {});
      }
      const version = bus.call({ destination: DESTINATION, path: PATH, interface: 'org.freedesktop.DBus.Properties', member: 'Get', signature: 'ss', body: [MANAGER, 'Version'] })
        .then((m) => parseSystemdVersion(String((m.body[0] as Variant).value)));
      version.catch(() => {});
      try {
        await bus.ready();
        return new SystemdManager(bus, version);
      } catch (err) {
        reasons.push((err as Error).message);
        bus.close();
      }
    }
    throw new BusConnectionError(`cannot reach systemd over D-Bus (${reasons.join('; ')})`);
  }

  /** systemd's version number (252 for "252.38-1~deb12u1"). */
  version(): Promise<number> {
    return this.versionReply;
  }

  /**
   * The manager's own cgroup (its ControlGroup property), relative to the v2 hierarchy's root: "/" for
   * the system's, "/user.slice/user-1000.slice/user@1000.service" for a user's. Its units' cgroups
   * are below it.
   */
  async controlGroup(): Promise<string> {
    const reply = await this.bus.call({ destination: DESTINATION, path: PATH, interface: 'org.freedesktop.DBus.Properties', member: 'Get', signature: 'ss', body: [MANAGER, 'ControlGroup'] });
    const value = String((reply.body[0] as Variant).value);
    return value === '' ? '/' : value;
  }

  /** StartTransientUnit(name, "replace", properties, no auxiliary units); resolves with the job's result. */
  async startTransientUnit(name: string, properties: UnitProperty[]): Promise<JobResult> {
    const reply = await this.manager('StartTransientUnit', 'ssa(sv)a(sa(sv))', [name, 'replace', properties, []]);
    return this.jobResult(reply, name);
  }

  /** StopUnit(name, "replace"); resolves with the job's result, or "no-such-unit" when none is loaded. */
  async stopUnit(name: string): Promise<JobResult> {
    try {
      return await this.jobResult(await this.manager('StopUnit', 'ss', [name, 'replace']), name);
    } catch (err) {
      if (err instanceof DBusError && err.errorName === 'org.freedesktop.systemd1.NoSuchUnit') return 'no-such-unit';
      throw err;
    }
  }

  /**
   * SetUnitProperties(name, runtime, properties): new resource properties of a live unit (`tsrun
   * update`), so that systemd keeps them (it rewrites a scope's cgroup files from its properties on a
   * daemon-reload). `runtime`: until the next reboot only, as for a transient unit.
   */
  async setUnitProperties(name: string, properties: UnitProperty[]): Promise<void> {
    await this.manager('SetUnitProperties', 'sba(sv)', [name, true, properties]);
  }

  /**
   * The Result of a loaded scope unit ("success", "oom-kill", "signal"…), kept until ResetFailedUnit;
   * undefined when no unit of that name is loaded.
   */
  async scopeResult(name: string): Promise<string | undefined> {
    let unitPath: string;
    try {
      unitPath = String((await this.manager('GetUnit', 's', [name])).body[0]);
    } catch (err) {
      if (err instanceof DBusError && err.errorName === 'org.freedesktop.systemd1.NoSuchUnit') return undefined;
      throw err;
    }
    const reply = await this.bus.call({ destination: DESTINATION, path: unitPath, interface: 'org.freedesktop.DBus.Properties', member: 'Get', signature: 'ss', body: ['org.freedesktop.systemd1.Scope', 'Result'] });
    return String((reply.body[0] as Variant).value);
  }

  /** ResetFailedUnit(name): a failed unit stays loaded until this; one not loaded is fine. */
  async resetFailedUnit(name: string): Promise<void> {
    try {
      await this.manager('ResetFailedUnit', 's', [name]);
    } catch (err) {
      if (err instanceof DBusError && err.errorName === 'org.freedesktop.systemd1.NoSuchUnit') return;
      throw err;
    }
  }

  close(): void {
    this.bus.close();
  }

  private manager(member: string, signature: string, body: DBusValue[]): Promise<Message> {
    return this.bus.call({ destination: DESTINATION, path: PATH, interface: MANAGER, member, signature, body });
  }

  /** Waits for JobRemoved of the job object path in `reply`, and returns its result. */
  private async jobResult(reply: Message, unit: string): Promise<JobResult> {
    const job = reply.body[0];
    const removed = await this.bus.waitForSignal(
      (m) => m.interface === MANAGER && m.member === 'JobRemoved' && m.body[1] === job,
      `the end of systemd's job for ${unit} (JobRemoved)`,
    );
    return String(removed.body[3]);
  }
}
