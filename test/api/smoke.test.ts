import { expect, test } from 'vitest';
import { run } from '../../src/api/index.js';
const B = 'rootfs-samples/build/busybox';
test('smoke', async () => {
  const r = await run({ bundle: B, cmd: ['sh', '-c', 'echo hi; echo err >&2; cat; exit 3'] }, { input: 'in\n' });
  console.log(r);
  expect(r.exitCode).toBe(3);
});
