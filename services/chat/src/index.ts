export { ChatServer } from './chat-server.ts';
export { ChatConfigSchema, parseChatConfig, type ChatConfig, type ChatConfigInput, type ChatRoomEntry } from './config.ts';
export { Rooms, identityOf, type ChatMessage, type Participant, type RoomOutlets, type JoinCheck } from './rooms.ts';
export { RoomStore, sha256 } from './room-store.ts';
export { MsrpLinks, ACCEPT_TYPES } from './msrp-links.ts';
export * from './contract.ts';
