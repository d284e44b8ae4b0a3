// Pull progress for people: on a terminal one line per layer redrawn in place (cursor up, clear
// line), elsewhere plain lines, one per change of a layer's state.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { plainPullDisplay, terminalPullDisplay } from '../../../../src/image/registry/progress.js';
import type { LayerState, PullEvent } from '../../../../src/image/registry/progress-events.js';

function sink(): { out: Writable; text: () => string } {
  let s = '';
  const out = new Writable({ write(c: Buffer, _e, cb) { s += c.toString(); cb(); } });
  return { out, text: () => s };
}

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;
const layer = (index: number, state: LayerState, bytes = 0): PullEvent => ({
  type: 'layer', index, count: 2, digest: index === 0 ? A : B, diffId: A, size: index === 0 ? 2 << 20 : 512, state, bytes,
});

const run: PullEvent[] = [
  { type: 'manifest', reference: 'r.example/app:1', endpoint: 'r.example', digest: B, layers: 2 },
  layer(0, 'queued'), layer(1, 'queued'), layer(0, 'waiting'), layer(1, 'waiting'),
  layer(0, 'downloading'), layer(1, 'exists'), layer(0, 'downloading', 1 << 20),
  layer(0, 'resuming', 1 << 20), layer(0, 'downloading', 2 << 20), layer(0, 'done', 2 << 20),
  { type: 'done', reference: 'r.example/app:1', id: B, downloaded: 2 << 20, ms: 1500 },
];

describe('pull progress', () => {
  it('plain lines: one per state change, no carriage return or escape', () => {
    const s = sink();
    const d = plainPullDisplay(s.out);
    for (const e of run) d.onProgress(e);
    const lines = s.text().split('\n');
    expect(lines[0]).toBe(`pulling r.example/app:1 from r.example: manifest ${B}, 2 layers`);
    expect(lines.slice(1, 5)).toEqual([
      'layer 1/2 aaaaaaaaaaaa: downloading 2.0 MiB',
      'layer 2/2 bbbbbbbbbbbb: already in the store',
      'layer 1/2 aaaaaaaaaaaa: resuming at 1.0 MiB (connection lost)',
      'layer 1/2 aaaaaaaaaaaa: downloading 2.0 MiB',
    ]);
    expect(lines[5]).toMatch(/^layer 1\/2 aaaaaaaaaaaa: done {2}2\.0 MiB/);
    expect(lines[6]).toBe(`r.example/app:1: ${B} (2.0 MiB downloaded in 1.5 s)`);
    expect(s.text()).not.toMatch(/[\r\x1b]/);
  });

  it('on a terminal: a line per layer, redrawn in place', () => {
    const s = sink();
    const d = terminalPullDisplay(s.out);
    for (const e of run) d.onProgress(e);
    const text = s.text();
    expect(text.startsWith('pulling r.example/app:1 from r.example (2 layers)\n')).toBe(true);
    // every frame after the first moves up over the two layer lines and clears each before drawing it
    expect(text).toContain('\x1b[2A\r\x1b[K 1/2 aaaaaaaaaaaa  ');
    expect(text).toContain('\r\x1b[K 2/2 bbbbbbbbbbbb  already in the store\n');
    const frames = text.split('\x1b[2A');
    expect(frames.length).toBeGreaterThan(3);
    expect(frames.at(-1)).toMatch(/^\r\x1b\[K 1\/2 aaaaaaaaaaaa {2}done {2}2\.0 MiB.*\n\r\x1b\[K 2\/2 bbbbbbbbbbbb {2}already in the store\nr\.example\/app:1: /);
  });
});
