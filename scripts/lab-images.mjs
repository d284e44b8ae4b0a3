#!/usr/bin/env node
// `make lab-images`: draws docs/labs/img/NAME.svg from docs/labs/img/data/NAME.json with the renderers of
// src/diagram/ (bundled on the fly by esbuild, as scripts/bundle.mjs does for the CLI). Prints what changed.
import { build } from 'esbuild';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const img = join(repo, 'docs/labs/img');
const tmp = mkdtempSync(join(tmpdir(), 'tsrun-lab-images-'));
try {
  const out = join(tmp, 'lab-pictures.mjs');
  await build({ entryPoints: [join(repo, 'src/diagram/lab-pictures.ts')], bundle: true, platform: 'node', format: 'esm', outfile: out, logLevel: 'error' });
  const { renderLabPictures } = await import(pathToFileURL(out).href);
  const data = Object.fromEntries(readdirSync(join(img, 'data')).filter((f) => f.endsWith('.json'))
    .map((f) => [f.replace(/\.json$/, ''), readFileSync(join(img, 'data', f), 'utf8')]));
  for (const [name, svg] of Object.entries(renderLabPictures(data))) {
    const file = join(img, `${name}.svg`);
    const before = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    if (before === svg) { console.log(`lab-images: ${name}.svg is up to date`); continue; }
    writeFileSync(file, svg);
    console.log(`lab-images: wrote docs/labs/img/${name}.svg`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
