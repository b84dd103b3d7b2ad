export { Voicemail } from './voicemail.ts';
export { parseVoicemailConfig, type VoicemailConfig, type MailboxAccess } from './config.ts';
export { VoicemailStore, StoreError, type MessageMeta, type StoredPacket } from './store.ts';
export { payloadDigest, type PlaybackRecord } from './playback.ts';
