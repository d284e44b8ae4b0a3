// A plan for tsrun-init that only does file work, beneath one directory, as root of a new user
// namespace with a user's maps (newuidmap/newgidmap write them): it may chown and remove files of
// every mapped id, and of no other. Used for an image store's shifted owners (owner-shift.ts) and
// for removing what a user's container's other ids made (remove-shifted.ts). Pure.
import { NAMESPACE_FLAGS } from '../abi/namespaces.js';
import type { Plan, Step } from '../abi/steps.js';
import type { IdShift } from './store-shift.js';

const userNamespace = { type: 'user' as const, flag: NAMESPACE_FLAGS.user, action: 'create' as const };

/**
 * A plan that runs `steps` beneath `dir` in a new user namespace with the maps, as its root: one
 * whose files may be any of the mapped ids (newuidmap/newgidmap write the maps), and no more.
 */
export function filePlan(dir: string, steps: Step[], shift: IdShift, why: string): Plan {
  return {
    namespaces: [userNamespace],
    cloneFlags: NAMESPACE_FLAGS.user,
    idMaps: { uid: shift.uid, gid: shift.gid, setgroups: 'allow', writer: 'helper' },
    waitForParent: true,
    dieWithParent: true,
    preserveFds: 0,
    steps: [
      { op: 'setresgid', gid: 0, why: 'root of the user namespace' },
      { op: 'setresuid', uid: 0, why: 'root of the user namespace: files of every mapped id, no other' },
      { op: 'openRoot', path: dir, why },
      ...steps,
      { op: 'exit', status: 0, why: 'done' },
    ],
  };
}

/**
 * The plan that removes `name` (and all it holds) from `parent` as root of the user namespace.
 * tsrun-init refuses '', '.' and '..' (EINVAL), and resolves a longer path beneath `parent`.
 */
export function removalPlan(parent: string, name: string, shift: IdShift): Plan {
  return filePlan(parent, [{ op: 'removeTree', path: name, why: 'files of subordinate ids' }], shift, 'the parent');
}
