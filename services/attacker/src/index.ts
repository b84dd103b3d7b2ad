export { Attacker, MAX_DATAGRAMS, MAX_DATAGRAM_BYTES, readSendRequest, sourceFor, type SendRequest } from './attacker.ts';
export { AttackerConfigSchema, parseAttackerConfig, type AttackerConfig, type AttackerConfigInput } from './config.ts';
