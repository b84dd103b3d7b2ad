export * from './errors.ts';
export * from './subscribers.ts';
export * from './topology.ts';
export * from './pki.ts';
export * from './render.ts';
export * from './kinds.ts';
