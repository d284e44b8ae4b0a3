// tsrun sweep [--session ID]: remove the containers of test sessions that are over (src/api/sweep.ts).
// With --session (what a session's reaper runs once its test process is gone): that session's
// containers in --root, and the root itself if it is the session's own. Without: every session
// under --root whose process is dead. Prints the ids removed.
import { writeSync } from 'node:fs';
import type { CommandModule } from '../command.js';

const warn = (m: string): void => void writeSync(2, `tsrun: warning: ${m}\n`);

const command: CommandModule<{ session?: string }> = {
  command: 'sweep',
  describe: 'remove the containers of test sessions whose process is gone (--session ID: of that session)',
  options: { session: { type: 'string', describe: 'the session whose containers go (its process has ended)' } },
  async handler(args) {
    const { sweep, sweepSession } = await import('../../api/sweep.js');
    const { isSessionId } = await import('../../api/session-id.js');
    const { TsrunError } = await import('../../errors.js');
    if (args.session !== undefined && !isSessionId(args.session)) {
      throw new TsrunError(`--session: ${JSON.stringify(args.session)} is not a session id (PID-STARTTIME-HEX)`, { field: 'session' });
    }
    // --root defaults to /run/tsrun, a shared root; sessions' own roots are under /run/tsrun-sessions.
    const removed = args.session !== undefined ? await sweepSession(args.root, args.session, warn) : await sweep({ root: args.root, warn });
    writeSync(1, removed.map((id) => id + '\n').join(''));
    return 0;
  },
};

export default command;
