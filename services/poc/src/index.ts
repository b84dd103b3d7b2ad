export { PocServer, admission, clientServerKey, FLOOR_SUITE, type Refusal } from './poc-server.ts';
export { parsePocConfig, PocConfigSchema, type PocConfig, type PocConfigInput, type PocMode } from './config.ts';
export { GroupSession } from './group-session.ts';
export { decideForward, type ForwardDecision, type FloorGate } from './forwarding.ts';
export { readFloorControl, writeFloorControl, type FloorReadResult } from './floor-transport.ts';
export { PocBox, type BurstRecording, type BeginBurst } from './box.ts';
export { BoxError, DEFAULT_BOX_LIMITS, type BoxPacket } from './box-records.ts';
export { readJournal } from './box-journal.ts';
export type { PocStatus, PocGroupStatus, PocMemberStatus } from './contract.ts';
