// Runs the real `tsrun check` on this host. The development hosts are hybrid (v1 controllers under
// /sys/fs/cgroup/<name>, cgroup2 at /sys/fs/cgroup/unified holding only hugetlb); that is confirmed
// independently with statfs (stat -f) and cgroup.controllers, and the cgroup assertions are skipped
// on other kinds of hosts rather than failing there.
import { execa } from 'execa';
import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkHost, type CheckItem, type CheckReport } from '../../../src/check/index.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const TSRUN = `${ROOT}bin/tsrun.js`;

async function statfsType(path: string): Promise<string | undefined> {
  const r = await execa('stat', ['-f', '-c', '%T', path], { reject: false });
  return r.exitCode === 0 ? r.stdout.trim() : undefined;
}

/** Hybrid like the dev hosts: memory is a v1 hierarchy and cgroup2 is mounted at .../unified. */
async function isHybridLikeDevHosts(): Promise<boolean> {
  return (await statfsType('/sys/fs/cgroup/unified')) === 'cgroup2fs' && (await statfsType('/sys/fs/cgroup/memory')) === 'cgroupfs';
}

const find = (r: CheckReport, name: string): CheckItem | undefined => r.items.find((i) => i.area === 'cgroups' && i.name === name);

let bundleError: string | undefined;
let hybrid = false;

beforeAll(async () => {
  hybrid = await isHybridLikeDevHosts();
  // The build is make's job (test-integration depends on it): rebuilding here would empty dist/
  // while the other test files run tsrun from it.
  if (!existsSync(`${ROOT}dist/tsrun.js`)) bundleError = 'dist/tsrun.js missing: run `make build`';
});

describe('tsrun check (bundled CLI)', () => {
  it('--format json: can run containers, hybrid cgroups, hugetlb the only v2 controller, exit 0', async (ctx) => {
    if (bundleError) ctx.skip(bundleError);
    const r = await execa(TSRUN, ['check', '--format', 'json'], { reject: false });
    expect(r.exitCode).toBe(0);
    const report = JSON.parse(r.stdout) as CheckReport;
    expect(report.canRunContainers).toBe(true);
    if (!hybrid) ctx.skip('not a hybrid host like the dev machines; layout assertions do not apply');
    expect(find(report, 'layout')?.facts).toEqual({ layout: 'hybrid', v2MountPoint: '/sys/fs/cgroup/unified' });
    const v2 = find(report, 'v2 controllers');
    const onDisk = readFileSync('/sys/fs/cgroup/unified/cgroup.controllers', 'utf8').trim().split(/\s+/);
    expect(v2?.facts?.controllers).toEqual(onDisk);
    expect(v2?.facts?.controllers).toEqual(['hugetlb']);
    expect(find(report, 'v1 controllers')?.facts?.controllers).toEqual(expect.arrayContaining(['memory', 'cpu', 'pids', 'blkio']));
    expect(find(report, 'v1 controllers')?.facts?.controllers).not.toContain('hugetlb');
  });

  it('text: grouped report, no colour when stdout is a pipe, verdict, exit 0', async (ctx) => {
    if (bundleError) ctx.skip(bundleError);
    const r = await execa(TSRUN, ['check'], { reject: false });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).not.toContain('\x1b[');
    expect(r.stdout).toMatch(/^cgroups$/m);
    expect(r.stdout).toMatch(/tsrun can run containers on this host/);
    if (hybrid) expect(r.stdout).toMatch(/warn +layout +hybrid: cgroup2 at \/sys\/fs\/cgroup\/unified/);
  });

  it('colours its statuses on a terminal, unless NO_COLOR is set', async (ctx) => {
    if (bundleError) ctx.skip(bundleError);
    // script(1) runs the command on a fresh pty, so stdout.isTTY is true as for a person at a terminal.
    const onTty = (noColor: string) =>
      execa('script', ['-qec', `${TSRUN} check`, '/dev/null'], { env: { NO_COLOR: noColor, COLUMNS: '100' }, reject: false });
    expect((await onTty('')).stdout).toContain('\x1b[32mok');
    expect((await onTty('1')).stdout).not.toContain('\x1b[');
  });

  it('the global --log-format json selects JSON too, and --format text overrides it', async (ctx) => {
    if (bundleError) ctx.skip(bundleError);
    const json = await execa(TSRUN, ['--log-format', 'json', 'check'], { reject: false });
    expect((JSON.parse(json.stdout) as CheckReport).items.length).toBeGreaterThan(20);
    const text = await execa(TSRUN, ['--log-format', 'json', 'check', '--format', 'text'], { reject: false });
    expect(text.stdout).toMatch(/^tsrun check:/);
  });
});

describe('checkHost (library API)', () => {
  it('sees the same host as the CLI', async (ctx) => {
    const report = await checkHost();
    expect(report.canRunContainers).toBe(true);
    expect(report.items.map((i) => i.area)).toContain('seccomp');
    if (!hybrid) ctx.skip('not a hybrid host like the dev machines');
    expect(find(report, 'layout')?.facts?.layout).toBe('hybrid');
    expect(find(report, 'v2 controllers')?.facts?.controllers).toEqual(['hugetlb']);
  });
});
