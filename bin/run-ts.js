#!/usr/bin/env node
// Runs a TypeScript entry point (e.g. a benchmark) through tsx: `node bin/run-ts.js bench/run.ts`.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';

register();
const entry = process.argv[2];
if (!entry) throw new Error('usage: run-ts <file.ts>');
process.argv.splice(1, 2, resolve(entry));
await import(pathToFileURL(resolve(entry)).href);
