import { readFileSync } from 'node:fs';
import { parseKmsConfig, readTlsMaterial, type KmsConfig, type TlsMaterial } from './config.ts';
import { KmsConfigError, KmsError } from './errors.ts';
import { Kms } from './kms.ts';

/**
 * KMS process entry: `main.ts --config <file.json>`. Exit codes: 0 after a
 * clean shutdown (SIGTERM/SIGINT), 1 when a port is in use or start-up
 * fails, 2 for a bad command line or config. Every fatal error is one line
 * on stderr.
 */
async function main(argv: string[]): Promise<void> {
  const i = argv.indexOf('--config');
  const file = i >= 0 ? argv[i + 1] : undefined;
  if (!file) {
    process.stderr.write('kms: usage: main.ts --config <file.json>\n');
    process.exit(2);
  }
  let cfg: KmsConfig;
  let tls: TlsMaterial;
  try {
    cfg = parseKmsConfig(JSON.parse(readFileSync(file, 'utf8')));
    tls = readTlsMaterial(cfg);
  } catch (e) {
    const what = e instanceof KmsConfigError ? e.message : e instanceof SyntaxError ? `not valid JSON: ${e.message}` : (e as Error).message;
    process.stderr.write(`kms: config ${file}: ${what}\n`);
    process.exit(2);
  }
  const name = cfg.name;
  // Bad input must never take the KMS down mid-scenario: log and carry on.
  process.on('uncaughtException', (e) => process.stderr.write(`kms ${name}: uncaught exception (continuing): ${e.stack ?? e}\n`));
  process.on('unhandledRejection', (e) => process.stderr.write(`kms ${name}: unhandled rejection (continuing): ${(e as Error)?.stack ?? e}\n`));
  // Signal handlers first: a SIGTERM that arrives while the listeners come up still ends in a clean exit 0.
  let kms: Kms | undefined;
  let stopping = false;
  const stop = () => {
    stopping = true;
    // Kms.close() is idempotent, so a second signal during shutdown changes nothing.
    if (kms) void kms.close().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  try {
    kms = await Kms.start(cfg, { tls });
  } catch (e) {
    process.stderr.write(`${e instanceof KmsError && e.message.startsWith('kms') ? e.message : `kms ${name}: start-up failed: ${(e as Error).message}`}\n`);
    process.exit(1);
  }
  if (stopping) stop();
}

void main(process.argv.slice(2));
