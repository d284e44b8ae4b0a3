// The library modules the hot commands import lazily (a plain `node dist/tsrun.js` start loads only
// what it runs), imported up front in the startup snapshot so that their module code has run at build
// time. Exactly manifest.ts's `preloaded`: the build checks it.
import '../container/run.js';
import '../container/create.js';
import '../container/start.js';
import '../container/state.js';
import '../container/kill.js';
import '../container/delete.js';
import '../container/exec.js';
import '../container/ps.js';
import '../container/pause.js';
import '../container/image-bundle.js';
