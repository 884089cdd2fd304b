#!/usr/bin/env node
// Entry point for the `rewind` CLI: loads TypeScript sources through tsx so the
// package runs from a clean `npm ci` with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
await main(process.argv.slice(2), process.env);
