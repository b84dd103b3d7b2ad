import { readFileSync } from 'node:fs';

/**
 * Process entry shared by the application servers: `main.ts --config
 * <file.json>`. Exit codes: 0 after SIGTERM/SIGINT, 1 when start-up fails
 * (port in use, store unusable), 2 for a bad command line or config. Fatal
 * errors are one line on stderr; a bug in a handler is logged, never fatal.
 */
export function runService<C, S extends { close(): Promise<void> }>(kind: string, argv: string[], parse: (raw: unknown) => C, start: (cfg: C) => Promise<S>): void {
  const i = argv.indexOf('--config');
  const file = i >= 0 ? argv[i + 1] : undefined;
  if (!file) {
    process.stderr.write(`${kind}: usage: main.ts --config <file.json>\n`);
    process.exit(2);
  }
  let cfg: C;
  try {
    cfg = parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch (e) {
    process.stderr.write(`${kind}: config ${file}: ${(e as Error).message}\n`);
    process.exit(2);
  }
  process.on('uncaughtException', (e) => process.stderr.write(`${kind}: uncaught exception (continuing): ${e.stack ?? e}\n`));
  process.on('unhandledRejection', (e) => process.stderr.write(`${kind}: unhandled rejection (continuing): ${(e as Error)?.stack ?? e}\n`));
  let server: S | undefined;
  let stopping = false;
  const stop = () => {
    stopping = true;
    if (server) void server.close().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  start(cfg)
    .then((s) => {
      server = s;
      if (stopping) stop();
    })
    .catch((e: Error) => {
      process.stderr.write(`${kind}: start-up failed: ${e.message}\n`);
      process.exit(1);
    });
}
