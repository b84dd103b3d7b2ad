#!/usr/bin/env node
// The imslab CLI: runs the TypeScript sources through tsx's loader.
import { register } from 'tsx/esm/api';
register();
await import('../packages/runner/src/cli.ts');
