import { ElementLogger } from '@imslab/element-kit';

/** The KMS's log: element-kit's line format, kind `kms`, one line per event on stderr. */
export class Logger extends ElementLogger {
  constructor(name: string, write?: (line: string) => void) {
    super('kms', name, write);
  }
}
