// linux.cgroupsPath under --systemd-cgroup, by runc's rules (runc's docs/systemd.md):
//   "slice:prefix:name" → the transient scope "<prefix>-<name>.scope", in the slice "slice";
//   an empty slice      → system.slice (user.slice for a user's own manager, as runc's rootless
//                         driver: the scope goes in <user@UID.service>/user.slice); "-.slice" is the root slice;
//   absent or ""        → ":tsrun:<container id>", i.e. tsrun-<id>.scope in system.slice.
// A slice name says its place in the tree with dashes: a-b.slice is a-b.slice inside a.slice, so its
// cgroup is /a.slice/a-b.slice. The scope's cgroup is <v2 mount>/<expanded slice>/<unit>.
//
// Refused, naming the field: any other shape, a slice with "/" or empty dash components, a name that is
// a slice (runc makes a slice unit then, for kubelet's pod slices; no process can live in a slice, so
// a container cannot), and unit names systemd would refuse (characters outside [A-Za-z0-9:_.\\-],
// longer than 255). Checked here, so nothing is created for a path systemd would refuse.
import { ConfigError } from '../../errors.js';

const FIELD = 'linux.cgroupsPath';
const DEFAULT_SLICE = 'system.slice';
/** The default slice of a user's manager (runc's choice for rootless containers on cgroup v2). */
export const USER_DEFAULT_SLICE = 'user.slice';
const DEFAULT_PREFIX = 'tsrun';
/** systemd's UNIT_NAME_MAX is 256 with the NUL. */
const UNIT_NAME_MAX = 255;
const UNIT_CHARS = /^[A-Za-z0-9:_.\\-]+$/;

export interface SystemdCgroupPath {
  /** The parent slice, e.g. system.slice. */
  slice: string;
  /** The transient scope, e.g. tsrun-web.scope. */
  unit: string;
  /** The scope's cgroup relative to the root of the v2 hierarchy, e.g. /system.slice/tsrun-web.scope. */
  cgroup: string;
}

/** `cgroup` is relative to the manager's own cgroup (the hierarchy's root for the system's manager). */
export function resolveSystemdPath(cgroupsPath: string | undefined, id: string, defaultSlice = DEFAULT_SLICE): SystemdCgroupPath {
  const given = cgroupsPath !== undefined && cgroupsPath !== '';
  const field = given ? FIELD : `${FIELD} (absent: ":${DEFAULT_PREFIX}:<container id>")`;
  const parts = given ? cgroupsPath.split(':') : ['', DEFAULT_PREFIX, id];
  if (parts.length !== 3) {
    throw new ConfigError(FIELD, `with --systemd-cgroup it must be "slice:prefix:name" (e.g. "system.slice:tsrun:${id}"), got ${JSON.stringify(cgroupsPath)}`);
  }
  const [sliceGiven, prefix, name] = parts as [string, string, string];
  const slice = sliceGiven === '' ? defaultSlice : sliceGiven;
  if (name === '') throw new ConfigError(field, 'the name (after the second ":") must not be empty');
  if (name.endsWith('.slice')) {
    throw new ConfigError(field, `names a slice (${JSON.stringify(name)}): a container's processes go into a scope, and no process can live in a slice itself`);
  }
  const unit = `${prefix}-${name}.scope`;
  checkUnitName(field, unit);
  return { slice, unit, cgroup: `${expandSlice(field, slice)}/${unit}`.replace(/^\/\//, '/') };
}

/** system.slice → /system.slice; a-b-c.slice → /a.slice/a-b.slice/a-b-c.slice; -.slice → /. */
export function expandSlice(field: string, slice: string): string {
  checkUnitName(field, slice);
  if (!slice.endsWith('.slice') || slice === '.slice') throw new ConfigError(field, `the slice ${JSON.stringify(slice)} must be a systemd slice name ending in ".slice"`);
  const base = slice.slice(0, -'.slice'.length);
  if (base === '-') return '/';
  const components = base.split('-');
  if (components.some((c) => c === '')) {
    throw new ConfigError(field, `the slice ${JSON.stringify(slice)} has an empty component (dashes nest slices: "a-b.slice" is inside "a.slice")`);
  }
  return components.map((_, i) => `/${components.slice(0, i + 1).join('-')}.slice`).join('');
}

function checkUnitName(field: string, unit: string): void {
  if (unit.length > UNIT_NAME_MAX) throw new ConfigError(field, `the systemd unit name ${JSON.stringify(unit.slice(0, 40))}… is longer than ${UNIT_NAME_MAX} characters`);
  if (!UNIT_CHARS.test(unit)) {
    throw new ConfigError(field, `${JSON.stringify(unit)} is not a valid systemd unit name (only letters, digits and :_.\\- are allowed)`);
  }
}
