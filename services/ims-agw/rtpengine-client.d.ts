// Types for the parts of rtpengine-client (npm, no bundled types) that imslab uses.
declare module 'rtpengine-client' {
  interface ClientOptions { timeout?: number; localPort?: number; localAddress?: string; rejectOnError?: boolean }
  type NgReply = Record<string, unknown> & { result?: string; 'error-reason'?: string };
  class Client {
    constructor(opts?: ClientOptions);
    ping(port: number, host: string): Promise<NgReply>;
    offer(port: number, host: string, opts: Record<string, unknown>): Promise<NgReply>;
    answer(port: number, host: string, opts: Record<string, unknown>): Promise<NgReply>;
    query(port: number, host: string, opts: Record<string, unknown>): Promise<NgReply>;
    list(port: number, host: string, opts?: Record<string, unknown>): Promise<NgReply>;
    delete(port: number, host: string, opts: Record<string, unknown>): Promise<NgReply>;
    close(): void;
    /** The client is an EventEmitter: a reply it cannot match (a late one) is an 'error' event. */
    on(event: 'error', listener: (err: Error) => void): this;
  }
  const _default: { Client: typeof Client };
  export default _default;
  export { Client };
}
