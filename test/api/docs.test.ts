// docs/api.md's examples run as written: every ```js block is a module run by Node from a scratch
// project where the package is installed under its name (node_modules/<name> → this repo), with the
// repository as the working directory (the examples name rootfs-samples/build/busybox). Each exits
// non-zero when what it prints is not what the page says.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/bundle.js';
import { skipReason } from './helpers.js';

const page = readFileSync(join(REPO, 'docs/api.md'), 'utf8');
const blocks = [...page.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
const NAME = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { name: string }).name;
const project = mkdtempSync(`${tmpdir()}/tsrun-api-docs-`);
afterAll(() => rmSync(project, { recursive: true, force: true }));
mkdirSync(join(project, 'node_modules'));
symlinkSync(REPO, join(project, 'node_modules', NAME));
writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'docs-examples', type: 'module', private: true }));

describe.skipIf(skipReason)('docs/api.md', () => {
  it('has examples', () => expect(blocks.length).toBeGreaterThanOrEqual(5));
  blocks.forEach((code, i) => {
    it(`example ${i + 1} runs and checks itself`, () => {
      const file = join(project, `example-${i + 1}.mjs`);
      // The page's examples import the package by its name, which they must name right.
      expect(code).toContain(`from '${NAME}'`);
      writeFileSync(file, code.replaceAll("'rootfs-samples/", `'${REPO}/rootfs-samples/`));
      execFileSync(process.execPath, [file], { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    });
  });
});
