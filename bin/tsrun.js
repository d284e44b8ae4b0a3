#!/usr/bin/env node
// The installed CLI runs the ahead-of-time bundle: no TypeScript is compiled at start-up.
import '../dist/tsrun.js';
