export { ImServer, identityOf } from './im-server.ts';
export { ImConfigSchema, parseImConfig, type ImConfig, type ImConfigInput, type ImGroupEntry } from './config.ts';
export { MessageStore, type StoredMessage, type StoredMessageMeta, type StoreLimits } from './message-store.ts';
export * from './contract.ts';
