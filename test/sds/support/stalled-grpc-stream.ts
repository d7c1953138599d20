import http2 from 'node:http2';
import net from 'node:net';

/**
 * A gRPC client stream over plain node:http2 that stops reading: it advertises an HTTP/2 stream
 * window of 0 bytes, so the server can send headers but no message until resume() grants
 * credit, exactly as a client that stopped reading looks from the server once its window is
 * used up. Messages are protobuf bytes; gRPC's 5-byte length prefix is added and removed here.
 */
export class StalledGrpcStream {
  private readonly received: Buffer[] = [];
  private pending = Buffer.alloc(0);
  private headersSeen = false;
  private readonly waiters: (() => void)[] = [];

  private constructor(
    private readonly session: http2.ClientHttp2Session,
    private readonly stream: http2.ClientHttp2Stream,
  ) {
    stream.on('response', () => {
      this.headersSeen = true;
      this.wake();
    });
    stream.on('data', (chunk: Buffer) => {
      this.pending = Buffer.concat([this.pending, chunk]);
      while (this.pending.length >= 5) {
        const length = this.pending.readUInt32BE(1);
        if (this.pending.length < 5 + length) break;
        this.received.push(this.pending.subarray(5, 5 + length));
        this.pending = this.pending.subarray(5 + length);
      }
      this.wake();
    });
    stream.on('error', () => this.wake());
  }

  static open(socketPath: string, method: string): StalledGrpcStream {
    const session = http2.connect('http://localhost', { createConnection: () => net.connect(socketPath), settings: { initialWindowSize: 0 } });
    session.on('error', () => undefined);
    const stream = session.request({ ':method': 'POST', ':path': method, 'content-type': 'application/grpc', te: 'trailers' });
    return new StalledGrpcStream(session, stream);
  }

  send(message: Uint8Array): void {
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt32BE(message.length, 1);
    frame.set(message, 5);
    this.stream.write(frame);
  }

  /** Resolves once the server has answered (response headers are not flow-controlled). */
  async responseStarted(timeoutMs = 5_000): Promise<void> {
    await this.until(() => this.headersSeen, timeoutMs, 'response headers');
  }

  /** Grants the server enough credit to send everything it holds. */
  resume(): void {
    this.session.settings({ initialWindowSize: 16 * 1024 * 1024 });
    this.session.setLocalWindowSize(16 * 1024 * 1024);
  }

  /** Messages received so far (protobuf bytes, without the gRPC prefix). */
  get messages(): readonly Buffer[] {
    return this.received;
  }

  async untilMessage(accept: (message: Buffer) => boolean, timeoutMs = 5_000): Promise<void> {
    await this.until(() => this.received.some(accept), timeoutMs, 'a matching message');
  }

  close(): void {
    this.stream.close();
    this.session.close();
  }

  private async until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      const remaining = deadline - Date.now();
      if (remaining <= 0 || this.stream.destroyed) throw new Error(`stalled stream: no ${what} (rstCode ${this.stream.rstCode ?? 'none'})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}
