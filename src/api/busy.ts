// How many of this process's containers are being made or started right now. While there are
// several, a wait for one child's report on Node's thread holds up the planning of the others (the
// children set up on the other cores meanwhile), so the reads go to worker threads; alone, reading
// on Node's thread is quicker (no hop to a worker): process/parent.ts, quickReportMs.
let busy = 0;

/** Counts `work` as one container being made or started while it runs. */
export async function counted<T>(work: () => Promise<T>): Promise<T> {
  busy++;
  try {
    return await work();
  } finally {
    busy--;
  }
}

/** For StartOptions.quickReportMs: 0 while other containers are being made, else the default. */
export const reportWait = (): number | undefined => (busy > 1 ? 0 : undefined);
