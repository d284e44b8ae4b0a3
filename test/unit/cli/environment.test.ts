// The CLI's edge with its environment (src/cli/environment.ts): TSRUN_* variables become the
// library's spawn settings once per command; the library itself reads none of them.
import { afterEach, describe, expect, it } from 'vitest';
import { applyEnvironment, spawnSettingsFrom } from '../../../src/cli/environment.js';
import { runCli } from '../../../src/cli/run-cli.js';
import type { CommandEntry } from '../../../src/cli/command.js';
import { DEFAULT_SPAWN_SETTINGS, configureSpawn, spawnSettings } from '../../../src/native/spawn-settings.js';

afterEach(() => { configureSpawn({}); });

describe('spawn settings from the environment', () => {
  it('maps each variable, and leaves the defaults without them', () => {
    expect(spawnSettingsFrom({})).toEqual({});
    expect(spawnSettingsFrom({ TSRUN_INIT: '/x/tsrun-init', TSRUN_INIT_COPY: 'memfd', TSRUN_NO_CLONE3: '1', TSRUN_SHIM: '/x/shim.so' }))
      .toEqual({ initProgram: '/x/tsrun-init', initCopy: 'memfd', noClone3: true, shimLibrary: '/x/shim.so' });
    applyEnvironment({});
    expect(spawnSettings()).toEqual(DEFAULT_SPAWN_SETTINGS);
  });

  it('refuses an empty TSRUN_INIT and an unknown TSRUN_INIT_COPY by name', () => {
    expect(() => spawnSettingsFrom({ TSRUN_INIT: '' })).toThrow(/^TSRUN_INIT is empty: .*fork of Node/);
    expect(() => spawnSettingsFrom({ TSRUN_INIT_COPY: 'copy' })).toThrow('TSRUN_INIT_COPY=copy: say memfd or mount');
  });

  it('configureSpawn replaces the settings and gives back the way to restore them', () => {
    const restore = configureSpawn({ noClone3: true });
    expect(spawnSettings()).toEqual({ ...DEFAULT_SPAWN_SETTINGS, noClone3: true });
    restore();
    expect(spawnSettings()).toEqual(DEFAULT_SPAWN_SETTINGS);
  });

  it('runCli applies the environment of each command before running it', async () => {
    let seen: unknown;
    const table: CommandEntry[] = [{ name: 'probe', describe: '', load: async () => ({ command: 'probe', describe: '', handler: async () => { seen = spawnSettings(); return 0; } }) }];
    const saved = process.env.TSRUN_NO_CLONE3;
    const exitCode = process.exitCode;
    try {
      process.env.TSRUN_NO_CLONE3 = '1';
      await runCli(['probe'], table);
      expect(seen).toMatchObject({ noClone3: true });
      delete process.env.TSRUN_NO_CLONE3;
      await runCli(['probe'], table);
      expect(seen).toMatchObject({ noClone3: false });
    } finally {
      if (saved === undefined) delete process.env.TSRUN_NO_CLONE3;
      else process.env.TSRUN_NO_CLONE3 = saved;
      process.exitCode = exitCode;
    }
  });
});
