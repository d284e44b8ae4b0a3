// A container's status with a creator in its record: "creating" while that tsrun lives, "stopped"
// (abandoned, for delete to remove) once it is gone, whatever the init does.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ContainerRecord } from '../../../src/state/store.js';
import { abandoned, containerStatus, creatorAlive, processAlive, readProcStat, thisProcess } from '../../../src/state/status.js';

const stateDir = mkdtempSync(join(tmpdir(), 'tsrun-status-unit-'));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

/** A pid that existed and is gone (a child that exited and was reaped). */
function deadPid(): number {
  return spawnSync('true').pid!;
}

const me = thisProcess();
const base: ContainerRecord = {
  ociVersion: '1.2.0', id: 'c', pid: 0, pidStartTime: '', bundle: '/b', rootfs: '/b/rootfs', created: '2024-01-01T00:00:00.000Z',
  started: false, config: { ociVersion: '1.2.0' },
};

describe('creator and status', () => {
  it('thisProcess is this pid with its start time', () => {
    expect(me).toEqual({ pid: process.pid, startTime: readProcStat(process.pid)!.startTime });
    expect(processAlive(me.pid, me.startTime)).toBe(true);
    // Read once: a library makes a record per container.
    expect(thisProcess()).toBe(me);
  });

  it('pid 0 and negative pids are never alive (pid 0 must never be signalled)', () => {
    expect(processAlive(0, '')).toBe(false);
    expect(processAlive(-1, '')).toBe(false);
  });

  it('a live creator: "creating", whether or not the init exists yet', () => {
    const rec = { ...base, creator: me };
    expect(containerStatus(rec, stateDir)).toBe('creating');
    expect(containerStatus({ ...rec, pid: me.pid, pidStartTime: me.startTime }, stateDir)).toBe('creating');
    expect(creatorAlive(rec)).toBe(true);
    expect(abandoned(rec)).toBe(false);
  });

  it('a creator whose pid is gone: abandoned and "stopped", even with a live init', () => {
    const rec = { ...base, creator: { pid: deadPid(), startTime: me.startTime }, pid: me.pid, pidStartTime: me.startTime };
    expect(containerStatus(rec, stateDir)).toBe('stopped');
    expect(abandoned(rec)).toBe(true);
  });

  it('a creator pid now used by another process (other start time) counts as gone', () => {
    const rec = { ...base, creator: { pid: me.pid, startTime: `${me.startTime}0` } };
    expect(creatorAlive(rec)).toBe(false);
    expect(containerStatus(rec, stateDir)).toBe('stopped');
  });

  it('without a creator the init decides, as before', () => {
    expect(containerStatus(base, stateDir)).toBe('stopped');
    expect(containerStatus({ ...base, pid: me.pid, pidStartTime: me.startTime, started: true }, stateDir)).toBe('running');
    expect(abandoned(base)).toBe(false);
  });
});
