// The undo of an operation that fails half-way. Each thing the operation makes pushes how to remove
// it, at the moment it is made (runc's defers, youki's builder), so the clean-up never has to work
// out what exists: on failure the stack is unwound, last made first gone. An undo that fails is
// reported and the rest still run — the caller then throws the error that started it all, not the
// clean-up's.

export interface Undo {
  /** What is undone, for the warning if the undo itself fails ("the cgroup /sys/fs/cgroup/tsrun/c1"). */
  what: string;
  undo: () => void | Promise<void>;
}

export class UndoStack {
  private readonly undos: Undo[] = [];

  push(what: string, undo: () => void | Promise<void>): void {
    this.undos.push({ what, undo });
  }

  /** What would be undone, most recent first (for tests and --debug). */
  pending(): string[] {
    return this.undos.map((u) => u.what).reverse();
  }

  /** Runs every undo, most recent first, and empties the stack. `op` names the operation for warnings. */
  async unwind(op: string, warn: (message: string) => void): Promise<void> {
    for (let u = this.undos.pop(); u; u = this.undos.pop()) {
      try {
        await u.undo();
      } catch (err) {
        warn(`after the failed ${op}, removing ${u.what}: ${(err as Error).message}`);
      }
    }
  }
}
