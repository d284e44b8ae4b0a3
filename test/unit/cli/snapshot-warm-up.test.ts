// The snapshot warm-up runs inside `make build`: it must work without root and leave nothing behind,
// neither on disk nor in the process whose heap becomes the snapshot.
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import run from '../../../src/cli/commands/run.js';
import { warmUp } from '../../../src/cli/snapshot-warm-up.js';

const leftovers = (): string[] => readdirSync(tmpdir()).filter((n) => n.startsWith('tsrun-snapshot-'));

describe('snapshot warm-up', () => {
  it('runs the hot path on throwaway inputs and leaves no files, exit code or listeners', async () => {
    const before = leftovers();
    const listeners = process.eventNames().map((e) => `${String(e)}:${process.listenerCount(e)}`).sort();
    await warmUp(run);
    expect(leftovers()).toEqual(before);
    expect(process.exitCode).toBeUndefined();
    expect(process.eventNames().map((e) => `${String(e)}:${process.listenerCount(e)}`).sort()).toEqual(listeners);
  });
});
