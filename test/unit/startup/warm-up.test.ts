// The snapshot warm-up runs inside `make build`: it must work without root and leave nothing behind,
// neither on disk nor in the process whose heap becomes the snapshot.
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import run from '../../../src/cli/commands/run.js';
import { warmUp } from '../../../src/startup/warm-up.js';
import { isLoaded } from '../../../src/native/shim.js';
import { spawnSettings } from '../../../src/native/spawn-settings.js';

const leftovers = (): string[] => readdirSync(tmpdir()).filter((n) => n.startsWith('tsrun-snapshot-'));

describe('snapshot warm-up', () => {
  it('rehearses run on throwaway inputs and leaves no files, exit code, listeners, env, spawn settings or native library', async () => {
    const before = leftovers();
    const init = process.env.TSRUN_INIT;
    const settings = spawnSettings();
    const listeners = process.eventNames().map((e) => `${String(e)}:${process.listenerCount(e)}`).sort();
    await warmUp(run);
    expect(leftovers()).toEqual(before);
    expect(process.exitCode).toBeUndefined();
    expect(process.env.TSRUN_INIT).toBe(init);
    expect(spawnSettings()).toBe(settings);
    // The stand-in is gone: a start from the snapshot loads the real shim.
    expect(isLoaded()).toBe(false);
    expect(process.eventNames().map((e) => `${String(e)}:${process.listenerCount(e)}`).sort()).toEqual(listeners);
  });
});
