// What every phase of a create shares: the options, the state store, where warnings and trace lines
// go, and the undo stack each phase pushes onto as it makes things.
import type { TraceSink } from '../../process/trace.js';
import type { StateStore } from '../../state/store.js';
import type { UndoStack } from '../undo-stack.js';
import type { CreateOptions } from '../create.js';

export interface CreateContext {
  readonly opts: CreateOptions;
  readonly store: StateStore;
  readonly warn: (message: string) => void;
  readonly trace: TraceSink;
  readonly undo: UndoStack;
}
