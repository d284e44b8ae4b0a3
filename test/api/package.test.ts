// The package as a consumer sees it: `import … from 'tsrun-oci'` (the package's name) resolved by Node through package.json's
// exports (a scratch project whose node_modules/tsrun is this repo), types included, and a library
// entry that carries none of the CLI.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/bundle.js';
import { SAMPLE_BUNDLE, skipReason, testRoot } from './helpers.js';

const t = testRoot();
const project = mkdtempSync(`${tmpdir()}/tsrun-api-consumer-`);
afterAll(() => { t.remove(); rmSync(project, { recursive: true, force: true }); });
mkdirSync(join(project, 'node_modules'));
// Installed under the package's own name (what `npm install` would do), whatever that name is.
const NAME = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { name: string }).name;
symlinkSync(REPO, join(project, 'node_modules', NAME));
writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));

describe.skipIf(skipReason)('the package', () => {
  it('exports the library to import(\'tsrun\'), which runs a container', () => {
    writeFileSync(join(project, 'main.mjs'), `
      const api = await import('${NAME}');
      const r = await api.run({ bundle: process.argv[2], cmd: ['sh', '-c', 'echo from an installed tsrun'] }, { root: process.argv[3] });
      const bad = await api.run({ bundle: process.argv[2], user: 'x' }, { root: process.argv[3] }).catch((e) => e);
      console.log(JSON.stringify({ names: Object.keys(api).sort(), stdout: r.stdout, exitCode: r.exitCode, bad: bad instanceof api.TsrunError && bad.field }));
    `);
    const out = JSON.parse(execFileSync(process.execPath, ['main.mjs', SAMPLE_BUNDLE, t.root], { cwd: project, encoding: 'utf8' })) as Record<string, unknown>;
    expect(out).toEqual({ names: expect.arrayContaining(['run', 'start', 'Wait', 'TsrunError', 'Container']), stdout: 'from an installed tsrun\n', exitCode: 0, bad: 'user' });
  });

  it('has types: a consumer type-checks against dist/types (and a wrong use fails)', () => {
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', lib: ['ES2023', 'esnext.disposable'], module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, types: ['node'], typeRoots: [join(REPO, 'node_modules/@types')] }, files: ['consumer.ts'] }));
    writeFileSync(join(project, 'consumer.ts'), `
      import { run, start, Wait, TsrunError, type RunResult, type ContainerSpec } from '${NAME}';
      const spec: ContainerSpec = { bundle: '/b', cmd: ['true'], limits: { memory: '64m', onUnsupported: 'warn' } };
      export async function f(): Promise<number> {
        const r: RunResult = await run(spec, { timeoutMs: 1000 });
        await using c = await start(spec, { wait: Wait.all(Wait.forLog(/ready/), Wait.forPort(80)) });
        const e = await c.exec(['ls']);
        // @ts-expect-error exitCode is a number, not a string
        const s: string = r.exitCode;
        void s; void TsrunError;
        return r.exitCode + e.exitCode + c.pid;
      }
    `);
    const tsc = join(REPO, 'node_modules/typescript/bin/tsc');
    execFileSync(process.execPath, [tsc, '-p', project], { cwd: project, encoding: 'utf8' });
    // A type error in the consumer is reported: the declarations are real, not `any`.
    writeFileSync(join(project, 'consumer.ts'), `import { run } from '${NAME}';\nexport const x: Promise<string> = run({ bundle: '/b' });\n`);
    const wrong = spawnSync(process.execPath, [tsc, '-p', project], { cwd: project, encoding: 'utf8' });
    expect(wrong.status).not.toBe(0);
    expect(wrong.stdout).toMatch(/consumer\.ts.*RunResult/s);
  });

  it('the library entry carries none of the CLI (no yargs, nothing of src/cli)', () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { exports: Record<string, { import: string; types: string }> };
    const entry = join(REPO, pkg.exports['.']!.import);
    expect(existsSync(join(REPO, pkg.exports['.']!.types))).toBe(true);
    const sources = (JSON.parse(readFileSync(`${entry}.map`, 'utf8')) as { sources: string[] }).sources;
    expect(sources.filter((s) => /src\/cli\/|node_modules\/yargs/.test(s))).toEqual([]);
    expect(sources.some((s) => s.endsWith('src/api/index.ts'))).toBe(true);
  });
});
