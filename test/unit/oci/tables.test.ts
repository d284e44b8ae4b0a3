import { describe, expect, it } from 'vitest';
import { CAPABILITIES, CAPABILITY_NAMES, CAP_LAST_CAP, capabilityMask, capabilityNameHint, capabilityNames, capabilityNumber, isCapabilityName } from '../../../src/abi/capabilities.js';
import { RLIMITS, isRlimitName, rlimitNumber } from '../../../src/abi/rlimits.js';

describe('capability table', () => {
  it('numbers every capability from CAP_CHOWN=0 to CAP_CHECKPOINT_RESTORE=40 without gaps', () => {
    expect(CAPABILITY_NAMES).toHaveLength(CAP_LAST_CAP + 1);
    expect(CAPABILITY_NAMES.map((name) => CAPABILITIES[name])).toEqual([...Array(CAP_LAST_CAP + 1).keys()]);
    expect(capabilityNumber('CAP_CHOWN')).toBe(0);
    expect(capabilityNumber('CAP_SYS_ADMIN')).toBe(21);
    expect(capabilityNumber('CAP_CHECKPOINT_RESTORE')).toBe(40);
  });

  it('knows no names outside the table, including Object.prototype ones', () => {
    for (const name of ['CAP_FOO', 'toString', '__proto__', 'cap_chown', '']) {
      expect(isCapabilityName(name)).toBe(false);
      expect(capabilityNumber(name)).toBeUndefined();
    }
    expect(CAPABILITIES['toString']).toBeUndefined();
  });

  it('suggests the spelling with prefix and upper case', () => {
    expect(capabilityNameHint('sys_admin')).toBe('CAP_SYS_ADMIN');
    expect(capabilityNameHint('cap_kill')).toBe('CAP_KILL');
    expect(capabilityNameHint('CAP_FLY')).toBeUndefined();
    expect(capabilityNameHint('CAP_KILL')).toBeUndefined();
  });
});

describe('capabilityNames', () => {
  it('names the bits of a mask, the same again for the same mask, and a change to a result reaches no later one', () => {
    const mask = capabilityMask(['CAP_KILL', 'CAP_CHOWN', 'CAP_NET_BIND_SERVICE']);
    const first = capabilityNames(mask);
    expect(first).toEqual(['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE']);
    first.push('CAP_SYS_ADMIN');
    expect(capabilityNames(mask)).toEqual(['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE']);
    expect(capabilityNames(0n)).toEqual([]);
    for (let i = 0; i < 40; i++) expect(capabilityNames(1n << BigInt(i))).toHaveLength(1);
    expect(capabilityNames(mask)).toEqual(['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE']);
  });
});

describe('rlimit table', () => {
  it('numbers RLIMIT_CPU=0 to RLIMIT_RTTIME=15 without gaps', () => {
    expect(Object.values(RLIMITS).sort((a, b) => a - b)).toEqual([...Array(16).keys()]);
    expect(rlimitNumber('RLIMIT_CPU')).toBe(0);
    expect(rlimitNumber('RLIMIT_NOFILE')).toBe(7);
    expect(rlimitNumber('RLIMIT_RTTIME')).toBe(15);
  });

  it('knows no other names', () => {
    expect(isRlimitName('RLIMIT_FILES')).toBe(false);
    expect(rlimitNumber('valueOf')).toBeUndefined();
  });
});
