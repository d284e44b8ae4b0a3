import { describe, expect, it } from 'vitest';
import { UndoStack } from '../../../src/container/undo-stack.js';

describe('UndoStack', () => {
  it('undoes the last made first, each once, and is empty after', async () => {
    const undo = new UndoStack();
    const done: string[] = [];
    undo.push('the state dir', () => { done.push('state dir'); });
    undo.push('the cgroup', async () => { await Promise.resolve(); done.push('cgroup'); });
    undo.push('the process', () => { done.push('process'); });
    expect(undo.pending()).toEqual(['the process', 'the cgroup', 'the state dir']);
    await undo.unwind('create', () => {});
    await undo.unwind('create', () => {});
    expect(done).toEqual(['process', 'cgroup', 'state dir']);
    expect(undo.pending()).toEqual([]);
  });

  it('an undo that fails is a warning naming it; the others still run', async () => {
    const undo = new UndoStack();
    const done: string[] = [];
    const warnings: string[] = [];
    undo.push('the state dir', () => { done.push('state dir'); });
    undo.push('the cgroup /sys/fs/cgroup/tsrun/c', () => { throw new Error('rmdir: EBUSY'); });
    undo.push('the process', () => { done.push('process'); });
    await undo.unwind('create', (m) => warnings.push(m));
    expect(done).toEqual(['process', 'state dir']);
    expect(warnings).toEqual(['after the failed create, removing the cgroup /sys/fs/cgroup/tsrun/c: rmdir: EBUSY']);
  });
});
