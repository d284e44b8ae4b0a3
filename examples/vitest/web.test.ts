// Each test gets a fresh container from the fixture; what one test changes, the next never sees.
import { expect } from 'vitest';
import { test } from './fixture.js';

test('the page is served inside the container', async ({ web }) => {
  const r = await web.exec(['wget', '-q', '-O', '-', 'http://127.0.0.1:8080/index.html']);
  expect(r.stdout).toBe('hello\n');
  expect(web.state().status).toBe('running');
});

test('a change made by one test is gone in the next', async ({ web }) => {
  await web.exec(['sh', '-c', 'echo changed > /srv/index.html']);
  expect((await web.exec(['cat', '/srv/index.html'])).stdout).toBe('changed\n');
});

test('the next test starts from a new container', async ({ web }) => {
  expect((await web.exec(['cat', '/srv/index.html'])).stdout).toBe('hello\n');
  expect(web.logs().text()).toContain('started');
});
