// planBundle for a process that plans the same container again and again (the library: a test runs
// hundreds of containers of one bundle). Planning is pure given its inputs — the spec, the options,
// and what the host view answered about paths (whether a bind source is a file or a directory, the
// mount holding the rootfs) — and costs ~0.4 ms a run() here. So the last plans are kept with those
// inputs, and one is reused only when the spec and options are the same and every host question the
// planner asked gets the same answer asked again now (files are still looked at as they are: a bind
// source that changed kind, a rootfs remounted, plan afresh).
//
// The one thing of a container's own in such a plan is its session keyring's name (its id): a plan is
// kept only when the id appears nowhere else in it, and is handed out with the new id there.
// Not memoized: a terminal (the caller's size now), an image (its overlay is in the state dir), a
// start gate other than the caller's (`create`'s fifo is in the state dir), no cgroup2 mount given.
import type { Plan, Step } from '../abi/steps.js';
import type { Bundle } from '../oci/bundle.js';
import type { HostView } from '../rootfs/plan.js';
import { isInitialUserNamespace } from '../host/user-namespace.js';
import { planBundle, type BundlePlanOptions } from './bundle-plan.js';
import { deepFrozen } from '../deep-frozen.js';

interface Question {
  ask: 'kind' | 'mountOf';
  path: string;
  answer: string;
}

interface Kept {
  plan: Plan;
  id: string;
  questions: Question[];
}

const KEPT = 8;

export class PlanMemo {
  private readonly kept = new Map<string, Kept>();

  plan(bundle: Bundle, opts: BundlePlanOptions & { host: HostView }): Plan {
    const id = opts.keyring;
    if (id === undefined || opts.startGate !== 'caller' || opts.imageOverlay || opts.cgroup2Mount === undefined || bundle.spec.process?.terminal) {
      return planBundle(bundle, opts);
    }
    const { host, keyring: _id, ...rest } = opts;
    const key = JSON.stringify([bundle.spec, bundle.dir, bundle.rootfs, rest, process.getuid?.(), isInitialUserNamespace()]);
    const hit = this.kept.get(key);
    if (hit && hit.questions.every((q) => ask(host, q.ask, q.path) === q.answer)) return withKeyring(hit.plan, id);
    const questions: Question[] = [];
    const plan = planBundle(bundle, { ...opts, host: recording(host, questions) });
    this.kept.delete(key);
    // Its id in one place only (the keyring's name: a string in the JSON, quoted).
    if (JSON.stringify(plan, bigints).split(JSON.stringify(id)).length === 2) {
      if (this.kept.size >= KEPT) this.kept.delete(this.kept.keys().next().value!);
      this.kept.set(key, { plan: deepFrozen(plan), id, questions });
    }
    return plan;
  }
}

const bigints = (_key: string, value: unknown): unknown => (typeof value === 'bigint' ? `${value}n` : value);

/** An answer as it is kept and compared (undefined, which JSON has no text for, included). */
const answerText = (answer: unknown): string => JSON.stringify(answer) ?? 'undefined';

function ask(host: HostView, what: Question['ask'], path: string): string {
  return answerText(what === 'kind' ? host.kind(path) : host.mountOf?.(path));
}

/** `host`, noting each question and its answer. */
function recording(host: HostView, questions: Question[]): HostView {
  const note = <T>(what: Question['ask'], path: string, answer: T): T => {
    questions.push({ ask: what, path, answer: answerText(answer) });
    return answer;
  };
  return {
    kind: (path) => note('kind', path, host.kind(path)),
    ...(host.mountOf ? { mountOf: (path: string) => note('mountOf', path, host.mountOf!(path)) } : {}),
  };
}

/** The kept plan with `id` as its keyring's name (a new steps array; the kept steps are frozen). */
function withKeyring(plan: Plan, id: string): Plan {
  return { ...plan, steps: plan.steps.map((s: Step) => (s.op === 'newKeyring' ? { ...s, name: id } : s)) };
}

