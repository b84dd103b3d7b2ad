import { runElement } from '@imslab/element-kit';
import { KmsConfigSchema, readTlsMaterial } from './config.ts';
import { Kms } from './kms.ts';

/**
 * KMS process entry: `main --config <file.json>` (exit codes: element-kit's
 * runElement; an unreadable TLS file is a start-up failure naming the field).
 */
runElement('kms', process.argv.slice(2), KmsConfigSchema, (cfg) => Kms.start(cfg, { tls: readTlsMaterial(cfg) }));
