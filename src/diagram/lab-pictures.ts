// The labs' pictures (docs/labs/img/NAME.svg), each drawn from a data file (docs/labs/img/data/NAME.json)
// by one of the renderers here. `make lab-images` writes them; a unit test checks the checked-in SVGs
// are what the data gives today.
import { renderIdMap, type IdMapPicture } from './id-map.js';
import { renderMountStages, type MountStages } from './mount-stages.js';
import { renderOverlayStack, type OverlayPicture } from './overlay-stack.js';

/** Picture name → how its data becomes SVG. */
export const LAB_PICTURES: Record<string, (data: unknown) => string> = {
  'pivot-root': (d) => renderMountStages(d as MountStages),
  'uid-map': (d) => renderIdMap(d as IdMapPicture),
  'overlay-stack': (d) => renderOverlayStack(d as OverlayPicture),
};

/** Every picture: name → SVG, from the data files' text (name → JSON text). */
export function renderLabPictures(data: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, render] of Object.entries(LAB_PICTURES)) {
    const text = data[name];
    if (text === undefined) throw new Error(`docs/labs/img/data/${name}.json is missing`);
    out[name] = render(JSON.parse(text));
  }
  return out;
}
