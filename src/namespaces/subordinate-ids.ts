// A user's subordinate ids (/etc/subuid, /etc/subgid: "name-or-uid:first:count" lines) and the maps
// newuidmap/newgidmap write from them. A rootless container whose image has files of many owners
// needs more than the user's own id; only these setuid helpers may map them, and only within the
// ranges those files grant. tsrun checks the ranges first, so the error names the config field and
// the line to add, not the helper's terse refusal.
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { ConfigError, TsrunError } from '../errors.js';
import type { IdMapping } from '../oci/types.js';

export interface IdRange { first: number; count: number }

/** The ranges granted to a user, by name or by numeric id (both forms are valid in the files). */
export function subordinateRanges(text: string, user: { name: string; id: number }): IdRange[] {
  const out: IdRange[] = [];
  for (const line of text.split('\n')) {
    const [owner, first, count] = line.trim().split(':');
    if (owner === undefined || first === undefined || count === undefined) continue;
    if (owner !== user.name && owner !== String(user.id)) continue;
    const f = Number(first);
    const c = Number(count);
    if (Number.isInteger(f) && Number.isInteger(c) && c > 0) out.push({ first: f, count: c });
  }
  return out;
}

/**
 * Every mapping's host ids must be the caller's own id or inside one of its ranges. Throws a
 * ConfigError naming the mapping and the fix.
 */
export function checkSubordinateMaps(kind: 'uid' | 'gid', maps: IdMapping[], own: number, ranges: IdRange[], userName: string): void {
  const field = kind === 'uid' ? 'linux.uidMappings' : 'linux.gidMappings';
  const file = kind === 'uid' ? '/etc/subuid' : '/etc/subgid';
  const option = kind === 'uid' ? '--add-subuids' : '--add-subgids';
  maps.forEach((m, i) => {
    const last = m.hostID + m.size - 1;
    if (m.size === 1 && m.hostID === own) return;
    if (ranges.some((r) => m.hostID >= r.first && last < r.first + r.count)) return;
    const has = ranges.length === 0 ? `it has no range in ${file}` : `its ${file} ranges are ${ranges.map((r) => `${r.first}-${r.first + r.count - 1}`).join(', ')}`;
    throw new ConfigError(`${field}[${i}]`, `host ${kind}s ${m.hostID}-${last} are neither ${userName}'s own ${kind} (${own}) nor its subordinate ids: ${has}; map only ${own}, or grant a range as root (usermod ${option} 100000-165535 ${userName})`, file);
  });
}

/** newuidmap's arguments: the pid, then "inside outside count" of every mapping. */
export function helperArgs(pid: number, maps: IdMapping[]): string[] {
  return [String(pid), ...maps.flatMap((m) => [String(m.containerID), String(m.hostID), String(m.size)])];
}

/** Checks the maps against /etc/subuid and /etc/subgid, then runs newuidmap and newgidmap for pid. */
export function writeMapsWithHelpers(pid: number, maps: { uid: IdMapping[]; gid: IdMapping[] }): void {
  const name = userInfo().username;
  const ids = { uid: process.geteuid?.() ?? 0, gid: process.getegid?.() ?? 0 };
  for (const kind of ['uid', 'gid'] as const) {
    const file = kind === 'uid' ? '/etc/subuid' : '/etc/subgid';
    let text = '';
    try { text = readFileSync(file, 'utf8'); } catch { /* no file: no ranges */ }
    // A group's ranges are looked up by the user's name too (as newgidmap does).
    checkSubordinateMaps(kind, maps[kind], ids[kind], subordinateRanges(text, { name, id: ids.uid }), name);
  }
  // Loaded here, not at the top: the startup snapshot holds this module, and node:child_process
  // (with net and dgram) would sit in its heap for every start (src/startup/manifest.ts, excludedBuiltins).
  const { execFileSync } = process.getBuiltinModule('node:child_process');
  for (const kind of ['uid', 'gid'] as const) {
    const helper = kind === 'uid' ? 'newuidmap' : 'newgidmap';
    const field = kind === 'uid' ? 'linux.uidMappings' : 'linux.gidMappings';
    try {
      execFileSync(helper, helperArgs(pid, maps[kind]), { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
      if (e.code === 'ENOENT') throw new TsrunError(`${field}: mapping ids other than uid ${ids.uid}'s own needs ${helper}, which is not installed: install the uidmap package (apt install uidmap), or map only the user's own id`, { field, syscall: 'execve', errno: 'ENOENT' });
      const said = (e.stderr?.toString() ?? '').trim().split('\n').pop() ?? '';
      throw new TsrunError(`${field}: ${helper} ${helperArgs(pid, maps[kind]).join(' ')} failed${said ? `: ${said}` : ''}`, { field });
    }
  }
}

/**
 * The maps of a user's container made from an image: its own id as 0 and, when /etc/subuid and
 * /etc/subgid grant it a range, ids 1… from that range (at most 65535 of them), so that an image's
 * USER (app, 1000…) exists inside. Without a range, only 0 exists.
 */
export function rootlessImageMaps(): { uid: IdMapping[]; gid: IdMapping[] } {
  const name = userInfo().username;
  const ids = { uid: process.geteuid?.() ?? 0, gid: process.getegid?.() ?? 0 };
  const maps = (kind: 'uid' | 'gid'): IdMapping[] => {
    let text = '';
    try { text = readFileSync(kind === 'uid' ? '/etc/subuid' : '/etc/subgid', 'utf8'); } catch { /* none */ }
    const range = subordinateRanges(text, { name, id: ids.uid })[0];
    const own: IdMapping = { containerID: 0, hostID: ids[kind], size: 1 };
    return range ? [own, { containerID: 1, hostID: range.first, size: Math.min(range.count, 65535) }] : [own];
  };
  return { uid: maps('uid'), gid: maps('gid') };
}
