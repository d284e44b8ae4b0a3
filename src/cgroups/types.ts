// Shared shapes of the cgroup v2 driver. Everything the planner produces is plain data, so a plan can be
// unit-tested, printed, and applied later by the manager.
import type { Resources } from '../oci/types.js';
import type { UnitProperty } from './systemd/manager-api.js';

/** One write into one cgroup v2 interface file. */
export interface FileWrite {
  /** The v2 controller that owns `file` (`memory`, `cpu` …), or `cgroup` for core files needing none. */
  controller: string;
  /** Interface file name inside the container's cgroup directory, e.g. `memory.max`. */
  file: string;
  /** Exactly what is written; each write is one write(2), as cgroup files parse one write at a time. */
  value: string;
  /** The config field this came from, as a JSON path, e.g. `linux.resources.memory.limit`. */
  field: string;
  /**
   * Skip silently when the file does not exist. Only for files whose existence depends on the kernel's
   * configuration rather than on the spec (io.bfq.weight only with the BFQ scheduler, hugetlb rsvd).
   */
  optional?: boolean;
}

/** Turns one part of `linux.resources` into file writes. Pure: no I/O, throws ConfigError on bad input. */
export type ControllerConverter = (resources: Resources, fieldPrefix: string) => FileWrite[];

/** What the planner needs to know about the machine; `detectCgroupHost()` reads it from /proc and cgroupfs. */
export interface CgroupHost {
  /** Where the cgroup2 hierarchy is mounted (`/sys/fs/cgroup`, or `/sys/fs/cgroup/unified` on hybrid hosts). */
  mountPoint: string;
  /** Controllers listed in the v2 root's `cgroup.controllers`. */
  controllers: string[];
  /** True when cgroup v1 hierarchies are mounted too (they then own the controllers v2 lacks). */
  hybrid: boolean;
  /** Huge page sizes the kernel offers, as hugetlb names them (`2MB`, `1GB`); absent: not checked. */
  hugepageSizes?: string[];
}

/** A device rule with every OCI default filled in. `null` major/minor means "any". */
export interface DeviceRule {
  allow: boolean;
  type: 'a' | 'c' | 'b';
  major: number | null;
  minor: number | null;
  /** Some of `r`, `w`, `m`, in that order, never empty. */
  access: string;
}

export interface CgroupPlan {
  /** Absolute path of the container's cgroup directory. */
  dir: string;
  /** The v2 mount point the dir lives under. */
  mountPoint: string;
  /**
   * The topmost directory tsrun may remove when empty (`<mount>/tsrun` for default and relative paths),
   * or `dir` itself for absolute paths, whose parents belong to whoever named them.
   */
  ownedRoot: string;
  /** Controllers to enable in every ancestor's cgroup.subtree_control, in a stable order. */
  controllers: string[];
  writes: FileWrite[];
  /** Device rules in config order (spec rules, then linux.devices, then tsrun's defaults); null = no program. */
  deviceRules: DeviceRule[] | null;
  /** Config fields that have no cgroup v2 equivalent and were ignored, for the caller to log. */
  warnings: string[];
  /** With the systemd driver: the transient scope systemd makes (with the process) for this cgroup. */
  systemd?: SystemdScopePlan;
  /**
   * Rootless: the topmost cgroup delegated to the user (src/cgroups/rootless.ts). Controllers are
   * enabled only at and below it: above it they are the delegator's (its cgroup.controllers says
   * which it has, and the planner refused the others).
   */
  delegationRoot?: string;
}

export interface SystemdScopePlan {
  /** The scope unit, e.g. tsrun-web.scope, and the slice it goes into. */
  unit: string;
  slice: string;
  /** StartTransientUnit's properties, without PIDs: the pid is known only at placement. */
  properties: UnitProperty[];
}
