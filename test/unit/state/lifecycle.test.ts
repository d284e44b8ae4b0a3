// The lifecycle table (src/state/lifecycle.ts): which operation runs in which status, and the words
// of each refusal where clients parse them (runc 1.1's, checked side by side with runc in
// test/integration/lifecycle/runc-parity.test.ts).
import { describe, expect, it } from 'vitest';
import { LIFECYCLE, OPERATIONS, checkLifecycle, lifecycleRefusal, type Operation } from '../../../src/state/lifecycle.js';
import type { Status } from '../../../src/state/status.js';
import { TsrunError } from '../../../src/errors.js';

const STATUSES: Status[] = ['creating', 'created', 'running', 'paused', 'stopped'];

// The matrix restated by hand: a change to the table must change this too, on purpose.
// (runc 1.1: kill of created/running/paused; `kill --all` also of a stopped container; delete of a
// stopped one, and of a created one, which it kills first; pause of running/created; exec in
// created/running; update of created/running/paused; ps in any; events while not stopped.)
const ALLOWED: Record<Operation, Status[]> = {
  state: ['creating', 'created', 'running', 'paused', 'stopped'],
  start: ['created'],
  kill: ['created', 'running', 'paused'],
  'kill --all': ['created', 'running', 'paused', 'stopped'],
  delete: ['created', 'stopped'],
  'delete --force': ['creating', 'created', 'running', 'paused', 'stopped'],
  pause: ['created', 'running'],
  resume: ['paused'],
  exec: ['created', 'running'],
  update: ['created', 'running', 'paused'],
  ps: ['created', 'running', 'paused', 'stopped'],
  events: ['created', 'running', 'paused'],
  inspect: ['created', 'running', 'paused'],
};

describe('the lifecycle table', () => {
  it('has a verdict for every operation in every status, as restated here', () => {
    expect([...OPERATIONS].sort()).toEqual(Object.keys(ALLOWED).sort());
    for (const op of OPERATIONS) {
      for (const status of STATUSES) {
        const refused = lifecycleRefusal(op, status, 'c1');
        expect({ op, status, allowed: refused === undefined }).toEqual({ op, status, allowed: ALLOWED[op].includes(status) });
      }
    }
  });

  it('every refusal is one line naming the container', () => {
    for (const op of OPERATIONS) {
      for (const status of STATUSES) {
        const refused = lifecycleRefusal(op, status, 'my-id');
        if (refused === undefined) continue;
        expect(refused).toContain('my-id');
        expect(refused).not.toContain('\n');
      }
    }
  });

  it.each<[Operation, Status, string]>([
    // containerd's shim matches "container not running" (a kill of an exited task is then not an error).
    ['kill', 'stopped', 'container not running'],
    ['pause', 'stopped', 'container not running'],
    ['pause', 'paused', 'container not running'],
    ['update', 'stopped', 'container not running'],
    ['resume', 'running', 'container not paused'],
    ['resume', 'created', 'container not paused'],
    ['start', 'stopped', 'cannot start a container that has stopped'],
    ['start', 'running', 'cannot start an already running container'],
    ['start', 'paused', 'cannot start a container in the paused state'],
    ['delete', 'running', 'cannot delete container my-id that is not stopped: running'],
    ['delete', 'paused', 'cannot delete container my-id that is not stopped: paused'],
    ['exec', 'stopped', 'cannot exec in a stopped container'],
    ['exec', 'paused', 'cannot exec in a paused container'],
    ['events', 'stopped', 'container with id my-id is not running'],
  ])('%s of a %s container says runc\'s words: "%s"', (op, status, words) => {
    expect(lifecycleRefusal(op, status, 'my-id')).toContain(words);
  });

  it('a container being created can only be read or deleted with --force (its init may not exist yet)', () => {
    const allowed = OPERATIONS.filter((op) => lifecycleRefusal(op, 'creating', 'c') === undefined);
    expect(allowed.sort()).toEqual(['delete --force', 'state']);
    expect(lifecycleRefusal('kill', 'creating', 'c')).toMatch(/creating.*delete --force/);
  });

  it('operations that change a container take its lock; those that only read it do not (a state must not wait for a delete)', () => {
    const locking = OPERATIONS.filter((op) => LIFECYCLE[op].locks).sort();
    expect(locking).toEqual(['delete', 'delete --force', 'exec', 'kill', 'kill --all', 'pause', 'resume', 'start', 'update']);
  });

  it('checkLifecycle throws the refusal as a TsrunError (exit status 1, as runc) and passes what is allowed', () => {
    expect(() => checkLifecycle('kill', 'running', 'c')).not.toThrow();
    let caught: unknown;
    try { checkLifecycle('kill', 'stopped', 'c'); } catch (err) { caught = err; }
    expect(caught).toBeInstanceOf(TsrunError);
    expect((caught as TsrunError).exitCode).toBe(1);
    expect((caught as TsrunError).message).toBe(lifecycleRefusal('kill', 'stopped', 'c'));
  });
});
