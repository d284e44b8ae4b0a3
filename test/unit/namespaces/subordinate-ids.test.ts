import { describe, expect, it } from 'vitest';
import { checkSubordinateMaps, helperArgs, subordinateRanges } from '../../../src/namespaces/subordinate-ids.js';

const SUBUID = 'alice:100000:65536\n1001:300000:10\nbob:165536:65536\n# comment\nalice:500000:5\n';

describe('subordinate ids', () => {
  it('a user\'s ranges, by name or by uid', () => {
    expect(subordinateRanges(SUBUID, { name: 'alice', id: 1001 })).toEqual([{ first: 100000, count: 65536 }, { first: 300000, count: 10 }, { first: 500000, count: 5 }]);
    expect(subordinateRanges(SUBUID, { name: 'carol', id: 1002 })).toEqual([]);
  });
  it('maps inside the ranges or of the own id pass; others name the mapping, the file and the fix', () => {
    const ranges = subordinateRanges(SUBUID, { name: 'alice', id: 1001 });
    expect(() => checkSubordinateMaps('uid', [{ containerID: 0, hostID: 1001, size: 1 }, { containerID: 1, hostID: 100000, size: 65536 }], 1001, ranges, 'alice')).not.toThrow();
    expect(() => checkSubordinateMaps('uid', [{ containerID: 0, hostID: 1001, size: 1 }, { containerID: 1, hostID: 100000, size: 65537 }], 1001, ranges, 'alice'))
      .toThrow(/linux\.uidMappings\[1\]: host uids 100000-165536 .*100000-165535.*usermod --add-subuids/);
    expect(() => checkSubordinateMaps('gid', [{ containerID: 0, hostID: 0, size: 1 }], 1001, [], 'carol'))
      .toThrow(/linux\.gidMappings\[0\].*no range in \/etc\/subgid/);
  });
  it('newuidmap arguments', () => {
    expect(helperArgs(42, [{ containerID: 0, hostID: 1001, size: 1 }, { containerID: 1, hostID: 100000, size: 65536 }])).toEqual(['42', '0', '1001', '1', '1', '100000', '65536']);
  });
});
