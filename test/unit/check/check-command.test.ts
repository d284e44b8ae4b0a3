// The CLI layer of `tsrun check` with the host replaced: format selection and the exit code.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CheckReport } from '../../../src/check/report.js';

const fakeReport: CheckReport = { kernel: '6.1.0', items: [], canRunContainers: true, blockers: [] };

vi.mock('../../../src/check/index.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../src/check/index.js')>();
  return { ...real, checkHost: async () => fakeReport };
});

const { default: check } = await import('../../../src/cli/commands/check.js');

type Args = Parameters<typeof check.handler>[0];
const args = (over: Partial<Args>): Args => ({ root: '/run/tsrun', logFormat: 'text', debug: false, _: ['check'], ...over });

function captureStdout(): { text: () => string } {
  let out = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => { out += String(chunk); return true; });
  return { text: () => out };
}

afterEach(() => {
  vi.restoreAllMocks();
  fakeReport.canRunContainers = true;
  fakeReport.blockers = [];
});

describe('tsrun check command', () => {
  it('exits 0 and prints text by default', async () => {
    const out = captureStdout();
    expect(await check.handler(args({}))).toBe(0);
    expect(out.text()).toMatch(/^tsrun check:/);
  });

  it('exits 1 when no container can run here', async () => {
    fakeReport.canRunContainers = false;
    fakeReport.blockers = ['PID namespaces cannot be created'];
    const out = captureStdout();
    expect(await check.handler(args({}))).toBe(1);
    expect(out.text()).toMatch(/cannot run containers[\s\S]*PID namespaces/);
  });

  it('prints JSON for --format json, and for --log-format json unless --format says otherwise', async () => {
    let out = captureStdout();
    await check.handler(args({ format: 'json' }));
    expect(JSON.parse(out.text())).toEqual(fakeReport);
    vi.restoreAllMocks();
    out = captureStdout();
    await check.handler(args({ logFormat: 'json' }));
    expect(JSON.parse(out.text())).toEqual(fakeReport);
    vi.restoreAllMocks();
    out = captureStdout();
    await check.handler(args({ logFormat: 'json', format: 'text' }));
    expect(out.text()).toMatch(/^tsrun check:/);
  });
});
