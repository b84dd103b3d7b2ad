/** The subscriber file or a scenario's overrides say something that cannot be built. */
export class TopologyError extends Error {
  override name = 'TopologyError';
  constructor(message: string, readonly where: string) {
    super(`${where}: ${message}`);
  }
}
