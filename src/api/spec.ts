// ContainerSpec → changes to an OCI config. Pure: the base config (a bundle's, an image's generated
// one, or tsrun's default) goes in, the config to create comes out; nothing is read from the host
// here except what `host` says (which cgroup controllers exist).
import { TsrunError } from '../errors.js';
import type { Capabilities, Mount, Spec } from '../oci/types.js';
import type { ContainerSpec, Limits, MountSpec } from './types.js';
import { withDefaultInit } from './init.js';
import { SESSION_ANNOTATION } from './session-id.js';

// The annotation that marks a container with its session (what sweep() and the reaper look for):
// a Session brings it in `annotations`; a session-like object without them gets it with its id.
export { SESSION_ANNOTATION };

export interface SpecHost {
  /** Controllers of the host's cgroup v2 hierarchy; undefined when there is none. Asked only for limits (it reads mountinfo). */
  controllers: () => string[] | undefined;
  warn: (message: string) => void;
}

export interface SpecEdits {
  spec: ContainerSpec;
  /** Whether the base already has the image's entrypoint + `cmd` as its args (image: args came from the image). */
  argsFromImage: boolean;
  /** The session's marks: its `annotations` (session()), else SESSION_ANNOTATION with its id. */
  session?: { id: string; annotations?: Readonly<Record<string, string>> };
}

export function applyContainerSpec(base: Spec, edits: SpecEdits, host: SpecHost): Spec {
  const cs = edits.spec;
  const spec: Spec = structuredClone(base);
  const proc = spec.process ?? { user: { uid: 0, gid: 0 }, cwd: '/' };
  spec.process = proc;
  // The library reads output through pipes: no pty.
  proc.terminal = false;
  delete proc.consoleSize;
  if (cs.entrypoint) proc.args = [...cs.entrypoint, ...(cs.cmd ?? [])];
  else if (cs.cmd && !edits.argsFromImage) proc.args = [...cs.cmd];
  if (cs.env) proc.env = mergeEnv(proc.env ?? [], cs.env);
  if (cs.cwd !== undefined) proc.cwd = cs.cwd;
  if (cs.user !== undefined) proc.user = { ...proc.user, ...parseUser(cs.user, 'user') };
  if (cs.hostname !== undefined) spec.hostname = cs.hostname;
  if (cs.readonlyRoot !== undefined) spec.root = { path: spec.root?.path ?? 'rootfs', readonly: cs.readonlyRoot };
  if (cs.mounts) spec.mounts = [...(spec.mounts ?? []), ...cs.mounts.map(toOciMount)];
  if (cs.capAdd || cs.capDrop) proc.capabilities = editCapabilities(proc.capabilities ?? {}, cs.capAdd ?? [], cs.capDrop ?? []);
  if (cs.limits) applyLimits(spec, cs.limits, host);
  if (edits.session) spec.annotations = { ...spec.annotations, ...(edits.session.annotations ?? { [SESSION_ANNOTATION]: edits.session.id }) };
  // init: tsrun-init as PID 1 in front of the program (`run --init`'s change of the config), before
  // the escape hatch, which sees the final config.
  const withInit = cs.init ? withDefaultInit(spec) : spec;
  return cs.config ? cs.config(withInit) : withInit;
}

function mergeEnv(base: string[], extra: Record<string, string>): string[] {
  const key = (e: string): string => (e.includes('=') ? e.slice(0, e.indexOf('=')) : e);
  return [...base.filter((e) => !(key(e) in extra)), ...Object.entries(extra).map(([k, v]) => `${k}=${v}`)];
}

/** `1000`, `"1000:1000"` or `{ uid, gid }`; names would need the image's passwd: not taken. */
export function parseUser(user: string | number | { uid: number; gid?: number }, field: string): { uid: number; gid: number } {
  if (typeof user === 'object') return { uid: user.uid, gid: user.gid ?? user.uid };
  const m = /^(\d+)(?::(\d+))?$/.exec(String(user));
  if (!m) throw new TsrunError(`${field}: ${JSON.stringify(user)} is not uid or uid:gid (numbers)`, { field });
  const uid = Number(m[1]);
  return { uid, gid: m[2] !== undefined ? Number(m[2]) : uid };
}

function toOciMount(m: MountSpec, i: number): Mount {
  if (m.type === 'bind') {
    if (!m.source.startsWith('/')) throw new TsrunError(`mounts[${i}].source: ${JSON.stringify(m.source)} is not an absolute path`, { field: `mounts[${i}].source` });
    return { destination: m.target, type: 'bind', source: m.source, options: ['rbind', m.readonly ? 'ro' : 'rw', 'nosuid', 'nodev'] };
  }
  if (m.type === 'tmpfs') {
    return { destination: m.target, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', ...(m.size ? [`size=${m.size}`] : []), ...(m.options ?? [])] };
  }
  throw new TsrunError(`mounts[${i}].type: ${JSON.stringify((m as { type: unknown }).type)} is not bind or tmpfs`, { field: `mounts[${i}].type` });
}

const capName = (c: string): string => {
  const up = c.toUpperCase();
  return up === 'ALL' || up.startsWith('CAP_') ? up : `CAP_${up}`;
};

function editCapabilities(caps: Capabilities, add: string[], drop: string[]): Capabilities {
  const out: Capabilities = {};
  const dropAll = drop.map(capName).includes('ALL');
  const dropped = new Set(drop.map(capName));
  for (const set of ['bounding', 'effective', 'permitted', 'inheritable', 'ambient'] as const) {
    const cur = dropAll ? [] : (caps[set] ?? []).filter((c) => !dropped.has(c));
    // Ambient (and inheritable) only where the base had the set: raising ambient ones silently for a non-root user would surprise.
    const withAdd = set === 'bounding' || set === 'effective' || set === 'permitted' || caps[set] !== undefined ? [...cur, ...add.map(capName)] : cur;
    if (caps[set] !== undefined || withAdd.length > 0) out[set] = [...new Set(withAdd)];
  }
  return out;
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 };

export function parseMemory(v: number | string): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)i?b?$/i.exec(v.trim());
  if (!m) throw new TsrunError(`limits.memory: ${JSON.stringify(v)} is not a size (bytes, or 64m, 1g)`, { field: 'limits.memory' });
  return Math.floor(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
}

/**
 * Limits go to linux.resources. A limit whose controller the host's cgroup v2 lacks: 'error' refuses it
 * here, naming the spec's field (create would name the OCI one); 'warn' and 'ignore' leave it out.
 */
function applyLimits(spec: Spec, limits: Limits, host: SpecHost): void {
  const mode = limits.onUnsupported ?? 'error';
  const controllers = host.controllers();
  const have = (controller: string): boolean => controllers?.includes(controller) ?? false;
  const skip = (what: string, controller: string): void => {
    const lacks = controllers === undefined ? 'this host has no cgroup v2 hierarchy' : `this host's cgroup v2 has no "${controller}" controller (only: ${controllers.join(' ') || 'none'})`;
    if (mode === 'error') throw new TsrunError(`limits.${what}: ${lacks}; give limits.onUnsupported 'warn' or 'ignore' to run without it`, { field: `limits.${what}` });
    if (mode === 'warn') host.warn(`limits.${what}: ${lacks}: the limit is not applied`);
  };
  const resources = { ...spec.linux?.resources };
  if (limits.memory !== undefined) {
    if (have('memory')) resources.memory = { ...resources.memory, limit: parseMemory(limits.memory) };
    else skip('memory', 'memory');
  }
  if (limits.pids !== undefined) {
    if (have('pids')) resources.pids = { limit: limits.pids };
    else skip('pids', 'pids');
  }
  if (limits.cpus !== undefined) {
    if (!(limits.cpus > 0)) throw new TsrunError(`limits.cpus: ${limits.cpus} is not a positive number of CPUs`, { field: 'limits.cpus' });
    const period = 100_000;
    if (have('cpu')) resources.cpu = { ...resources.cpu, quota: Math.round(limits.cpus * period), period };
    else skip('cpus', 'cpu');
  }
  spec.linux = { ...spec.linux, resources };
}
