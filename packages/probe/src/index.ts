export * from './marker.ts';
export * from './tone.ts';
export * from './keylog.ts';
