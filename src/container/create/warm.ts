// Create, between prepare and materialize, for the library only: use the warm init made for this
// container (src/process/warm-init.ts says what it is and why), and start making the next one.
import type { Plan, Step } from '../../abi/steps.js';
import { NAMESPACE_FLAGS } from '../../abi/namespaces.js';
import { spawnSettings } from '../../native/spawn-settings.js';
import { sendPlan } from '../../native/warm.js';
import { encodePlan } from '../../native/encode-plan.js';
import { splitAhead, type AheadSplit } from '../../plan/ahead.js';
export { spawnOnWorker } from '../../native/warm.js';
import { discardWarm, prepareWarm, releaseWarmWatch, warmFits, type WarmInit } from '../../process/warm-init.js';
import type { CreateContext } from './context.js';
import type { Prepared } from './prepare.js';

/**
 * The warm init handed to a create, from its start: until the plan is sent to it (the spawn sets
 * handedOver), the create's undo gives it up, whatever fails.
 */
export interface HeldWarm {
  readonly ready: Promise<WarmInit | undefined>;
  /** Set by claimWarm when the init fits this container. */
  init?: WarmInit;
  /** Gives the init its plan and fds (set with `init`): from then on it is the container's process. */
  send?: (plan: Buffer, fds: number[]) => void;
  /** What the init is sent (set with `init`): the container's plan less the steps it ran ahead. */
  plan?: Plan;
  handedOver: boolean;
  discarded: boolean;
}

export function holdWarm(ctx: CreateContext, ready: Promise<WarmInit | undefined>): HeldWarm {
  const held: HeldWarm = { ready, handedOver: false, discarded: false };
  ctx.undo.push('the warm init made for this container', async () => {
    const w = await ready;
    if (w && !held.handedOver) giveUp(held, w);
  });
  return held;
}

function giveUp(held: HeldWarm, w: WarmInit): void {
  if (held.discarded) return;
  held.discarded = true;
  discardWarm(w);
}

/**
 * Whether a container can run in a warm init: one clone making every namespace (no join, no user or
 * time namespace: those need tsrun-init's two stages), a mount namespace (what the warm init copied
 * of the mount table is replaced by the rootfs), a cgroup of tsrun's making (cgroupfs, born inside
 * with clone3), as root, and nothing that the usual spawn does differently (--trace shows the clone,
 * --preserve-fds, a network attached after the clone).
 */
export function warmEligible(ctx: CreateContext, p: Prepared): boolean {
  const { opts } = ctx;
  const plan: Plan = p.plan;
  const settings = spawnSettings();
  return settings.warm && !settings.noClone3 && !settings.twoStage && opts.warm !== undefined && opts.trace === undefined && opts.network === undefined
    && (process.geteuid?.() ?? 0) === 0
    && p.driver.name === 'cgroupfs' && p.cgroupPlan !== undefined && p.cgroupPlan.dir.endsWith(`/${opts.id}`)
    && (plan.cloneFlags & NAMESPACE_FLAGS.mount) !== 0 && (plan.cloneFlags & NAMESPACE_FLAGS.user) === 0
    && plan.namespaces.every((n) => n.action === 'create') && !plan.steps.some((s) => s.beforeClone) && !plan.idMaps && plan.preserveFds === 0;
}

/** What claimWarm decided: the init this container runs in (if any), and how to start the next one. */
export interface WarmClaim {
  claimed?: HeldWarm;
  /**
   * Starts making the warm init of the next container of this source: handed to the library
   * (CreatedContainer.refillWarm), which calls it once this container's process has exited (run) or
   * exec'd (start), or after a failure.
   */
  refill?: () => void;
}

/**
 * The warm init taken for this container, if it can run it (then the create's undo gives it up until
 * the spawn takes it); one that cannot is given up at once, so that its cgroup (named by this id) is
 * gone before materialize makes the container's.
 */
export async function claimWarm(ctx: CreateContext, p: Prepared, held: HeldWarm | undefined): Promise<WarmClaim> {
  const { opts } = ctx;
  const eligible = warmEligible(ctx, p);
  const split = eligible ? aheadOf(p.plan, opts.id) : undefined;
  const init = held ? await held.ready : undefined;
  let claimed: HeldWarm | undefined;
  if (held && init) {
    if (eligible && init.id === opts.id && warmFits(init, p.plan.cloneFlags, p.cgroupPlan?.dir, split?.encoded)) {
      held.init = init;
      held.plan = init.ahead && split ? split.rest : p.plan;
      held.send = (plan, fds) => {
        sendPlan(init.syncFd, plan, fds, fds);
        held.handedOver = true;
        releaseWarmWatch(init);
      };
      claimed = held;
    } else {
      giveUp(held, init);
    }
  }
  const { warm } = opts;
  const cgroup = p.cgroupPlan;
  if (!eligible || !warm || !cgroup) return claimed ? { claimed } : {};
  const refill = (): void => {
    // Its cgroup's name is its id (warmEligible): the next ones are its siblings.
    const parent = cgroup.dir.slice(0, -opts.id.length);
    prepareWarm({
      label: warm.label, cloneFlags: p.plan.cloneFlags, newId: warm.nextId,
      cgroupDirOf: (id) => `${parent}${id}`, mountPoint: cgroup.mountPoint,
      ...(split ? { ahead: split.encoded } : {}),
    });
  };
  return { ...(claimed ? { claimed } : {}), refill };
}

/**
 * The share of this plan a warm init may run ahead (plan/ahead.ts), encoded: what the next
 * container of the source will have to match. None when it names this container's id (a hostname,
 * an image's upper directory in its state dir): the next container's could not be the same.
 */
export function aheadOf(plan: Plan, id: string): (AheadSplit & { encoded: Buffer }) | undefined {
  const split = splitAhead(plan);
  if (!split) return undefined;
  const encoded = sameAsLast(split.ahead) ?? encodeAhead(split.ahead);
  return encoded.includes(id) ? undefined : { ...split, encoded };
}

/**
 * The last ahead part encoded, and what it was made of. A plan the library kept (plan/plan-memo.ts)
 * hands out the same frozen steps again: the same objects, unchangeable, encode the same (~0.1 ms a
 * run() spared). Anything else is encoded afresh.
 */
let lastAhead: { parts: unknown[]; steps: readonly Step[]; encoded: Buffer } | undefined;

function partsOf(ahead: Plan): unknown[] {
  return Object.entries(ahead).filter(([k]) => k !== 'steps').flat();
}

function sameAsLast(ahead: Plan): Buffer | undefined {
  const last = lastAhead;
  if (!last || last.steps.length !== ahead.steps.length) return undefined;
  const parts = partsOf(ahead);
  const unchanging = (v: unknown): boolean => typeof v !== 'object' || v === null || Object.isFrozen(v);
  if (parts.length !== last.parts.length || !parts.every((v, i) => v === last.parts[i] && unchanging(v))) return undefined;
  return ahead.steps.every((s, i) => s === last.steps[i] && Object.isFrozen(s)) ? last.encoded : undefined;
}

function encodeAhead(ahead: Plan): Buffer {
  const encoded = encodePlan(ahead, { trace: false });
  lastAhead = { parts: partsOf(ahead), steps: ahead.steps, encoded };
  return encoded;
}
