// A vitest fixture that gives each test a container of its own and disposes of it after the test,
// whatever the test did. Use it as `test` in a test file: `test('…', async ({ web }) => …)`.
// The container: busybox's httpd serving one page, ready once it answers HTTP inside the container.
import { fileURLToPath } from 'node:url';
import { test as base } from 'vitest';
import { start, Wait, type Container } from 'tsrun-oci';

/** The sample bundle of this repo (`make samples`); any bundle, rootfs or image will do. */
export const BUNDLE = fileURLToPath(new URL('../../rootfs-samples/build/busybox', import.meta.url));

export const test = base.extend<{ web: Container }>({
  web: async ({}, use) => {
    const web = await start({
      bundle: BUNDLE,
      // A mount target that exists in the image: a missing one would be made in the bundle's rootfs.
      mounts: [{ type: 'tmpfs', target: '/srv' }],
      // PID 1 that ends at SIGTERM: stop() is quick (without the trap the kernel ignores TERM for PID 1).
      cmd: ['sh', '-c', "trap 'exit 0' TERM; echo hello > /srv/index.html; httpd -p 8080 -h /srv; echo started; sleep 600 & wait"],
    }, { wait: Wait.all(Wait.forLog('started'), Wait.forHttp('/index.html', 8080)), startupTimeoutMs: 10_000 });
    try {
      await use(web);
    } finally {
      await web.stop({ timeoutMs: 2_000 });
    }
  },
});
