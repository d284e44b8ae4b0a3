import { describe, expect, it } from 'vitest';
import { probeSeccomp } from '../../../src/check/seccomp.js';
import { STATUS_DOCKER_ROOT, STATUS_NO_SECCOMP, STATUS_THIS_HOST, THIS_HOST_SECCOMP_ACTIONS } from './samples.js';

describe('probeSeccomp', () => {
  it('on this host: available, unfiltered, every OCI action', () => {
    const items = probeSeccomp({ status: STATUS_THIS_HOST, actionsAvail: THIS_HOST_SECCOMP_ACTIONS });
    expect(items.map((i) => i.status)).toEqual(['ok', 'ok']);
    expect(items[0]?.detail).toMatch(/unfiltered \(mode 0\)/);
  });

  it('inside a filtered container: says the filters stack', () => {
    const items = probeSeccomp({ status: STATUS_DOCKER_ROOT, actionsAvail: THIS_HOST_SECCOMP_ACTIONS });
    expect(items[0]?.detail).toMatch(/already runs under 1 seccomp filter\(s\) \(mode 2: filter\).*strictest answer wins/);
  });

  it('without CONFIG_SECCOMP: missing', () => {
    expect(probeSeccomp({ status: STATUS_NO_SECCOMP })[0]?.status).toBe('missing');
  });

  it('names the OCI actions an older kernel lacks', () => {
    const items = probeSeccomp({ status: STATUS_THIS_HOST, actionsAvail: 'kill_process kill_thread trap errno trace log allow' });
    expect(items[1]).toMatchObject({ status: 'warn', detail: 'the kernel lacks SCMP_ACT_NOTIFY (5.0)' });
    expect(probeSeccomp({ status: STATUS_THIS_HOST })[1]?.status).toBe('warn');
  });
});
