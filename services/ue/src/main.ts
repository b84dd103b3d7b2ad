import { readFileSync } from 'node:fs';
import { parseConfig } from './config.ts';
import { ConfigError, PortInUseError } from './errors.ts';
import { Ue } from './ue.ts';

/**
 * UE process entry: `main.ts --config <file.json>`. Exit codes: 0 after a
 * clean shutdown, 1 when a socket is in use or start-up fails, 2 for a bad
 * command line or config. Every fatal error is one line on stderr.
 */
async function main(argv: string[]): Promise<void> {
  const i = argv.indexOf('--config');
  const file = i >= 0 ? argv[i + 1] : undefined;
  if (!file) {
    process.stderr.write('ue: usage: main.ts --config <file.json>\n');
    process.exit(2);
  }
  let cfg;
  try {
    cfg = parseConfig(JSON.parse(readFileSync(file, 'utf8')));
  } catch (e) {
    const what = e instanceof ConfigError ? e.message : e instanceof SyntaxError ? `not valid JSON: ${e.message}` : (e as Error).message;
    process.stderr.write(`ue: config ${file}: ${what}\n`);
    process.exit(2);
  }
  const name = cfg.name;
  // A bug must not take the UE down in the middle of a scenario: log and carry on.
  process.on('uncaughtException', (e) => process.stderr.write(`ue ${name}: uncaught exception (continuing): ${e.stack ?? e}\n`));
  process.on('unhandledRejection', (e) => process.stderr.write(`ue ${name}: unhandled rejection (continuing): ${(e as Error)?.stack ?? e}\n`));
  let ue: Ue;
  try {
    ue = await Ue.start(cfg, { exit: (code) => process.exit(code) });
  } catch (e) {
    process.stderr.write(`${e instanceof PortInUseError ? e.message : `ue ${name}: start-up failed: ${(e as Error).message}`}\n`);
    process.exit(1);
  }
  const stop = () => void ue.shutdown().finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

void main(process.argv.slice(2));
