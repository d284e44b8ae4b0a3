// Resolving an image's `User` ("name", "uid", "name:group", "uid:gid", …) against its own
// /etc/passwd and /etc/group, the way Docker and runc do.
import { TsrunError } from '../errors.js';
import type { User } from '../oci/types.js';

export interface PasswdEntry { name: string; uid: number; gid: number; home: string }
export interface GroupEntry { name: string; gid: number; members: string[] }

export function parsePasswd(text: string): PasswdEntry[] {
  return text.split('\n').map((l) => l.split(':')).filter((f) => f.length >= 7 && /^\d+$/.test(f[2]!) && /^\d+$/.test(f[3]!))
    .map((f) => ({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]! }));
}

export function parseGroup(text: string): GroupEntry[] {
  return text.split('\n').map((l) => l.split(':')).filter((f) => f.length >= 4 && /^\d+$/.test(f[2]!))
    .map((f) => ({ name: f[0]!, gid: Number(f[2]), members: f[3]!.split(',').filter(Boolean) }));
}

const NUMERIC = /^\d+$/;

export interface ResolvedUser { user: User; home?: string }

/** Resolves an image `User` string. An unknown name is an error; an unknown number is used as is. */
export function resolveUser(spec: string | undefined, passwd: PasswdEntry[], groups: GroupEntry[]): ResolvedUser {
  const s = (spec ?? '').trim();
  if (s === '') return { user: { uid: 0, gid: 0 }, home: passwd.find((p) => p.uid === 0)?.home ?? '/root' };
  const [userPart, groupPart] = s.split(':', 2) as [string, string | undefined];
  const entry = NUMERIC.test(userPart) ? passwd.find((p) => p.uid === Number(userPart)) : passwd.find((p) => p.name === userPart);
  if (!entry && !NUMERIC.test(userPart)) throw new TsrunError(`image user '${userPart}' is not in the image's /etc/passwd`, { field: 'config.User' });
  const uid = entry ? entry.uid : Number(userPart);
  let gid = entry ? entry.gid : 0;
  if (groupPart !== undefined && groupPart !== '') {
    if (NUMERIC.test(groupPart)) gid = Number(groupPart);
    else {
      const g = groups.find((x) => x.name === groupPart);
      if (!g) throw new TsrunError(`image group '${groupPart}' is not in the image's /etc/group`, { field: 'config.User' });
      gid = g.gid;
    }
  }
  // Supplementary groups from /etc/group membership, as runc gives a named user.
  const extra = entry ? groups.filter((g) => g.members.includes(entry.name) && g.gid !== gid).map((g) => g.gid) : [];
  const user: User = { uid, gid, ...(extra.length ? { additionalGids: [...new Set(extra)] } : {}) };
  return entry ? { user, home: entry.home } : { user };
}
