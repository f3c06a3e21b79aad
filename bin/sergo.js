#!/usr/bin/env node
// The `sergo` CLI. Sources are TypeScript; tsx compiles them on load so `npx sergo` works on a fresh
// clone without a separate build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
