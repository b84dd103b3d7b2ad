export * from './keys.ts';
export * from './link-scan.ts';
export * from './verdict.ts';
export * from './analyse.ts';
export * from './tls-signalling.ts';
export * from './sip-sdp.ts';
export * from './store-scan.ts';
export * from './foreign/index.ts';
