/**
 * An element's log: one human line per event on stderr, which the runner
 * keeps per element (`logs/<element>.log`):
 * `<ISO time> <kind> <name>: <text>`.
 */
export class ElementLogger {
  constructor(
    readonly kind: string,
    readonly name: string,
    private readonly write: (line: string) => void = (l) => process.stderr.write(l + '\n'),
  ) {}

  info(text: string): void {
    this.write(`${new Date().toISOString()} ${this.kind} ${this.name}: ${text}`);
  }

  warn(text: string): void {
    this.info(`WARNING ${text}`);
  }
}
