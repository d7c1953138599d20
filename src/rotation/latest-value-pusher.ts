import type { Writable } from 'node:stream';

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

  constructor(
    private readonly stream: Writable,
    private readonly render: () => Promise<Rendered<T> | undefined>,
    private readonly onError: (error: unknown) => void,
    /** Turns a rendered message into what goes on the wire; called only for messages sent. */
    private readonly prepare: (message: T) => W = (message) => message as unknown as W,
  ) {}

  notify(): void {
    if (this.closed) return;
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
        if (!this.stream.write(this.prepare(rendered.message))) await this.waitForDrain();
      }
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
