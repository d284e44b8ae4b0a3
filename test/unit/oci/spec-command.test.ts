import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import specCommand, { writeDefaultSpec } from '../../../src/cli/commands/spec.js';
import { defaultSpec } from '../../../src/oci/default-spec.js';
import { validateSpec } from '../../../src/oci/validate.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsrun-spec-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const globals = { root: '/run/tsrun', logFormat: 'text' as const, debug: false, _: ['spec'] };

describe('tsrun spec', () => {
  it('writes a valid, tab-indented default config.json into the bundle', async () => {
    expect(await specCommand.handler({ ...globals, bundle: dir, rootless: false })).toBe(0);
    const text = readFileSync(join(dir, 'config.json'), 'utf8');
    expect(text).toMatch(/^\{\n\t"ociVersion"/);
    expect(JSON.parse(text)).toEqual(defaultSpec());
    expect(() => validateSpec(JSON.parse(text))).not.toThrow();
  });

  it('writes the rootless variant with --rootless', async () => {
    await specCommand.handler({ ...globals, bundle: dir, rootless: true });
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'))).toEqual(defaultSpec({ rootless: true }));
  });

  it('refuses to overwrite an existing config.json and leaves it intact', () => {
    const configPath = join(dir, 'config.json');
    writeFileSync(configPath, '{"mine": true}');
    expect(() => writeDefaultSpec(dir, false)).toThrow(`${configPath} already exists; remove it first`);
    expect(readFileSync(configPath, 'utf8')).toBe('{"mine": true}');
  });

  it('makes a missing bundle directory (issue 13: it used to refuse one)', () => {
    expect(writeDefaultSpec(join(dir, 'missing'), false)).toBe(join(dir, 'missing', 'config.json'));
  });
});
