// `tsrun inspect --svg ID` and `--dot ID` on a real container: the drawing names the container's own
// namespace inodes (as the kernel gives them in /proc/PID/ns), its cgroup as the host names it, what the
// container reads for its cgroup, and the host directory that is its `/`. The SVG is parsed (well-formed
// XML: every tag closed in order); the DOT is rendered by Graphviz's `dot`.
import { spawnSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cannotRunContainers, containerTestHooks } from '../../helpers/bundle.js';
import { cgroup2Mount, cleanupLifecycle, makeRoot, runDetachedIn, scriptBundle, stateOf, tsrun, uniqueId } from '../../helpers/lifecycle.js';

const skip = cannotRunContainers() ?? (cgroup2Mount() ? undefined : 'no cgroup v2 mount');

/** The text of every <text> element, unescaped; throws unless every tag is closed in order. */
function svgTexts(svg: string): string[] {
  const stack: string[] = [];
  const texts: string[] = [];
  const re = /<(\/?)([a-zA-Z]+)([^>]*?)(\/?)>|([^<]+)/g;
  for (const m of svg.matchAll(re)) {
    const [, close, name, , self, content] = m;
    if (content !== undefined) {
      if (stack.at(-1) === 'text') texts.push(content.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&'));
      continue;
    }
    if (self) continue;
    if (close) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
    } else stack.push(name!);
  }
  if (stack.length) throw new Error(`unclosed: ${stack.join(' ')}`);
  return texts;
}

describe.skipIf(skip !== undefined)(`inspect --svg / --dot on a running container${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(cleanupLifecycle);

  for (const cgroupns of [false, true]) {
    it(`draws its namespaces, cgroup and root next to the host's (${cgroupns ? 'with' : 'without'} a cgroup namespace)`, async () => {
      const root = makeRoot();
      const id = uniqueId('pic');
      const bundle = scriptBundle('sleep 100000', (spec) => { if (cgroupns) spec.linux!.namespaces!.push({ type: 'cgroup' }); });
      const r = await runDetachedIn(root, bundle, id);
      expect(r.exitCode, r.stderr()).toBe(0);
      const { pid } = await stateOf(root, id);
      const ns = (p: number | 'self', t: string): string => readlinkSync(`/proc/${p}/ns/${t}`);
      const own = ['pid', 'net', 'mnt', 'uts', 'ipc', ...(cgroupns ? ['cgroup'] : [])];
      const record = JSON.parse(readFileSync(`${root}/${id}/state.json`, 'utf8')) as { cgroupDir: string; rootfs: string };
      // The container's cgroup as this (host) process reads it in /proc/PID/cgroup: /tsrun/ID.
      const hostName = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::'))!.slice(3);

      const svg = await tsrun(root, ['inspect', '--svg', id]);
      expect(svg.exitCode, svg.stderr).toBe(0);
      const texts = svgTexts(svg.stdout);
      for (const t of own) {
        expect(texts, t).toContain(`${ns(pid, t)}  (its own)`);
        expect(texts, `host ${t}`).toContain(ns('self', t));
      }
      expect(texts.some((t) => t.startsWith(`${ns(pid, 'user')}  shared`))).toBe(true);
      expect(texts).toContain(record.cgroupDir);
      expect(texts).toContain(`named ${hostName}`);
      expect(texts).toContain(`0::${cgroupns ? '/' : hostName}`);
      expect(texts).toContain(record.rootfs);

      const dot = await tsrun(root, ['inspect', '--dot', id]);
      expect(dot.exitCode, dot.stderr).toBe(0);
      for (const t of own) expect(dot.stdout).toContain(`"${ns(pid, t)} (its own)"`);
      expect(dot.stdout).toContain(`cgroup ${record.cgroupDir}`);
      expect(dot.stdout).toContain(`0::${cgroupns ? '/' : hostName}`);
      const rendered = spawnSync('dot', ['-Tsvg'], { input: dot.stdout, encoding: 'utf8' });
      expect(rendered.status, rendered.stderr).toBe(0);
      expect(svgTexts(rendered.stdout.replace(/<\?xml[^>]*>|<!DOCTYPE[^>]*>|<!--[\s\S]*?-->/g, '')).join('\n')).toContain(ns(pid, 'pid'));
    });
  }

  it('refuses --svg with --dot, and a container that is not there', async () => {
    const root = makeRoot();
    const both = await tsrun(root, ['inspect', '--svg', '--dot', 'nope']);
    expect(both.exitCode).toBe(2);
    expect(both.stderr).toMatch(/give --svg or --dot, not both/);
    const none = await tsrun(root, ['inspect', '--svg', 'nope']);
    expect(none.exitCode).not.toBe(0);
    expect(none.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  });
});
