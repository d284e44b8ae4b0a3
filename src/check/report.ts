// The data a `tsrun check` produces. Probes fill it, reporters print it; nothing here touches the host,
// so the same report can be rendered as text for a learner or as JSON for a script.

/** The areas a report is grouped by, in the order a learner meets them. */
export const CHECK_AREAS = ['kernel', 'namespaces', 'cgroups', 'overlay', 'privileges', 'pty', 'seccomp'] as const;
export type CheckArea = (typeof CHECK_AREAS)[number];

/**
 * `ok`: works as tsrun needs it. `warn`: present but partial (tsrun runs, some features do not).
 * `missing`: absent. Whether a missing item stops containers altogether is decided by the verdict,
 * not by the status: a missing time namespace costs little, a missing mount namespace everything.
 */
export type CheckStatus = 'ok' | 'warn' | 'missing';

export interface CheckItem {
  area: CheckArea;
  /** Short name of the thing checked: `mnt`, `layout`, `CapEff`. */
  name: string;
  status: CheckStatus;
  /** What was found and why it matters to a container runtime. */
  detail: string;
  /** For `warn`/`missing`: what it means for tsrun and how to fix it. */
  fix?: string;
  /** The same finding as data, for `--format json` consumers (`{ controllers: ['hugetlb'] }`). */
  facts?: Record<string, ItemFact>;
}

export type ItemFact = string | number | boolean | string[];

export interface CheckReport {
  /** `uname -r`, for the heading; every kernel-dependent item names its own minimum version. */
  kernel: string;
  items: CheckItem[];
  /** False when tsrun cannot start a container on this host at all. */
  canRunContainers: boolean;
  /** Why `canRunContainers` is false (empty when it is true). */
  blockers: string[];
  /** Where this user's containers' state and images go by default (they differ for root and a user). */
  roots?: { state: string; store: string };
}

/** Builds an item; keeps probe code to one line per finding. */
export function item(area: CheckArea, name: string, status: CheckStatus, detail: string, fix?: string): CheckItem {
  return fix === undefined ? { area, name, status, detail } : { area, name, status, detail, fix };
}

/** Attaches machine-readable facts to an item. */
export function withFacts(it: CheckItem, facts: Record<string, ItemFact>): CheckItem {
  return { ...it, facts };
}
