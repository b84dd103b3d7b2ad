/** Human log on stderr, one line per event; the runner keeps it with the run. */
export class Logger {
  constructor(
    readonly name: string,
    private readonly write: (line: string) => void = (l) => process.stderr.write(l + '\n'),
  ) {}

  info(text: string): void {
    this.write(`${new Date().toISOString()} kms ${this.name}: ${text}`);
  }

  warn(text: string): void {
    this.info(`WARNING ${text}`);
  }
}
