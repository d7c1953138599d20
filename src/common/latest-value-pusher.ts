import { performance } from 'node:perf_hooks';

/** The part of a gRPC server stream a pusher writes to (a grpc-js call, or a guard around one). */
export interface MessageSink {
  write(message: unknown): boolean;
  on(event: 'drain' | 'close', listener: () => void): unknown;
  off(event: 'drain' | 'close', listener: () => void): unknown;
}

/** A message to send and a fingerprint of its content; equal fingerprints are not re-sent. */
export interface Rendered<T> {
  readonly message: T;
  readonly fingerprint: string;
}

/**
 * One-slot mailbox between the store and one open stream. notify() never blocks and never
 * queues: while a send is waiting for a slow reader to drain, further notifications only mark
 * the slot dirty, and the next send renders the latest state. A stuck client therefore costs one
 * pending message, never a backlog, and never delays rotation or other streams (SPIRE's
 * subscriber model; DESIGN.md habit 3).
 */
export class LatestValuePusher<T, W = T> {
  private running = false;
  private dirty = false;
  private closed = false;
  private lastFingerprint: string | undefined;
  /** When the oldest notification not yet answered by a write arrived (push latency metric). */
  private pendingSince: number | undefined;

  constructor(
    private readonly stream: MessageSink,
    private readonly render: () => Promise<Rendered<T> | undefined>,
    private readonly onError: (error: unknown) => void,
    /** Turns a rendered message into what goes on the wire; called only for messages sent. */
    private readonly prepare: (message: T) => W = (message) => message as unknown as W,
    /** Told how long each sent message waited from notification to being handed to the stream. */
    private readonly onSent?: (latencySeconds: number) => void,
  ) {}

  notify(): void {
    if (this.closed) return;
    // Monotonic time, not Clock: a measurement for meshid_push_latency_seconds, never a decision.
    this.pendingSince ??= performance.now();
    this.dirty = true;
    if (!this.running) void this.drainLoop();
  }

  close(): void {
    this.closed = true;
  }

  /** Forget what was sent, so the next render is sent even if unchanged (xDS re-requests). */
  forgetLastSent(): void {
    this.lastFingerprint = undefined;
  }

  private async drainLoop(): Promise<void> {
    this.running = true;
    try {
      while (this.dirty && !this.closed) {
        this.dirty = false;
        const rendered = await this.render();
        if (this.closed || !rendered || rendered.fingerprint === this.lastFingerprint) continue;
        this.lastFingerprint = rendered.fingerprint;
        const written = this.stream.write(this.prepare(rendered.message));
        if (this.pendingSince !== undefined) this.onSent?.((performance.now() - this.pendingSince) / 1000);
        this.pendingSince = undefined;
        if (!written) await this.waitForDrain();
      }
      // Notifications that rendered nothing new are not a push; do not count their wait later.
      if (!this.dirty) this.pendingSince = undefined;
    } catch (error) {
      this.closed = true;
      this.onError(error);
    } finally {
      this.running = false;
    }
  }

  private waitForDrain(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.stream.off('drain', done);
        this.stream.off('close', done);
        resolve();
      };
      this.stream.on('drain', done);
      this.stream.on('close', done);
    });
  }
}
