#!/usr/bin/env node
// Built by `npm run build` (run by `npm ci` through the prepare script).
import { run } from '../dist/src/cli.js';

run();
