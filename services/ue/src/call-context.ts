import type { TicketPolicy, UeConfig } from './config.ts';
import type { KeyLog } from './key-log.ts';
import type { KmsAgent } from './kms-agent.ts';
import type { Logger } from './log.ts';
import type { PortAllocator } from './port-allocator.ts';
import type { Registration } from './registration.ts';
import type { SipStack } from './sip-stack.ts';

/** Everything a call needs from the UE. */
export interface CallContext {
  cfg: UeConfig;
  stack: SipStack;
  log: Logger;
  keylog: KeyLog;
  ports: PortAllocator;
  registration: Registration;
  /** MIKEY-TICKET access to the KMS; undefined when the config has no `kms`. */
  kms: KmsAgent | undefined;
}

/** Ticket options of a call we place (or an upgrade we start). */
export interface TicketOptions {
  policy: TicketPolicy;
  designatedDevice?: string | undefined;
}

export { ALLOWED_METHODS, KNOWN_UNSERVED_METHODS } from './methods.ts';
