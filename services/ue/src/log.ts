import { SipLogger } from '@imslab/app-server';

/** The UE's log: the application servers' line format (packages/app-server), kind `ue`. */
export class Logger extends SipLogger {
  constructor(name: string, write?: (line: string) => void) {
    super('ue', name, write);
  }
}
