import type { z } from 'zod';
import { FileError, loadJsonStrict } from './strict.ts';

/** Exit codes of every element process. */
export const EXIT = { ok: 0, startFailed: 1, badConfig: 2 } as const;

/**
 * The process entry of every TypeScript element: `main --config <file.json>`.
 * The configuration is read with the element's own schema (the same one the
 * topology renders it with). Exit codes: 0 after SIGTERM/SIGINT, 1 when
 * start-up fails (a port in use, a store that cannot be used), 2 for a bad
 * command line or configuration. A fatal error is one line on stderr; a bug
 * in a handler is logged and never fatal: an element must not die in the
 * middle of a scenario because of one bad message.
 */
export function runElement<S extends z.ZodType, E extends { close(): Promise<void> }>(
  kind: string,
  argv: string[],
  schema: S,
  start: (cfg: z.output<S>) => Promise<E>,
): void {
  const i = argv.indexOf('--config');
  const file = i >= 0 ? argv[i + 1] : undefined;
  if (!file) {
    process.stderr.write(`${kind}: usage: main --config <file.json>\n`);
    process.exit(EXIT.badConfig);
  }
  let cfg: z.output<S>;
  try {
    cfg = loadJsonStrict(schema, file);
  } catch (e) {
    process.stderr.write(`${kind}: ${e instanceof FileError ? `bad configuration:\n${e.message}` : (e as Error).message}\n`);
    process.exit(EXIT.badConfig);
  }
  const name = (cfg as { name?: unknown }).name ?? kind;
  process.on('uncaughtException', (e) => process.stderr.write(`${kind} ${String(name)}: uncaught exception (continuing): ${e.stack ?? e}\n`));
  process.on('unhandledRejection', (e) => process.stderr.write(`${kind} ${String(name)}: unhandled rejection (continuing): ${(e as Error)?.stack ?? e}\n`));
  // Signal handlers first: a SIGTERM that arrives while the element comes up still ends in a clean exit.
  let element: E | undefined;
  let stopping = false;
  const stop = () => {
    if (stopping && !element) return;
    stopping = true;
    if (element) void element.close().finally(() => process.exit(EXIT.ok));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  start(cfg)
    .then((s) => {
      element = s;
      if (stopping) stop();
    })
    .catch((e: Error) => {
      process.stderr.write(`${kind} ${String(name)}: start-up failed: ${e.message}\n`);
      process.exit(EXIT.startFailed);
    });
}
