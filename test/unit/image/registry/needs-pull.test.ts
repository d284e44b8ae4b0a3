// Which `run --image` arguments are pulled: a reference naming its registry that the store lacks.
// A short name is never pulled by run (a typo must not go looking on docker.io): its error says how.
import { afterEach, describe, expect, it } from 'vitest';
import { needsPull } from '../../../../src/image/image-arg.js';
import { ImageStore } from '../../../../src/image/image-store.js';
import { namesRegistry } from '../../../../src/image/registry/reference.js';
import { tempDir } from '../fixtures.js';

let cleanup: (() => void) | undefined;
afterEach(() => { cleanup?.(); cleanup = undefined; });

describe('needsPull', () => {
  it('references that name a registry, not short names, paths or ids', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    for (const ref of ['localhost:5000/app', 'localhost/app:1', '127.0.0.1:5000/busybox:latest', 'docker.io/library/busybox', 'quay.io/org/app@sha256:' + 'a'.repeat(64)]) {
      expect([ref, namesRegistry(ref), needsPull(ref, t.dir)]).toEqual([ref, true, true]);
    }
    for (const ref of ['busybox', 'myapp:2.0', 'user/app', 'sha256:' + 'a'.repeat(64), '/abs/layout', t.dir, 'Bad/Name']) {
      expect([ref, needsPull(ref, t.dir)]).toEqual([ref, false]);
    }
    expect(needsPull(undefined, t.dir)).toBe(false);
  });

  it('a short name missing from the store: the error says how to pull it', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    expect(() => new ImageStore(t.dir).get('myapp:2.0')).toThrow(
      `no image 'myapp:2.0' (docker.io/library/myapp:2.0) in ${t.dir} (see tsrun image ls; \`tsrun image pull myapp:2.0\` fetches it from docker.io)`);
    expect(() => new ImageStore(t.dir).get('abcdef12')).toThrow(`no image 'abcdef12' (docker.io/library/abcdef12:latest) in ${t.dir} (see tsrun image ls)`);
  });
});
