import http from 'node:http';

export interface RequestOutcome {
  readonly status: number | undefined;
  readonly body: string;
  readonly error?: string;
}

/** A bound against a hung request (then counted as failed), not a timing under test. */
const REQUEST_TIMEOUT_MS = 10_000;

/** One plain-HTTP GET to a client Envoy's egress listener, on a fresh connection. */
export function get(port: number, path: string): Promise<RequestOutcome> {
  return new Promise((resolve) => {
    const request = http.get({ host: '127.0.0.1', port, path, agent: false, timeout: REQUEST_TIMEOUT_MS }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode, body }));
      response.on('error', (error) => resolve({ status: response.statusCode, body, error: error.message }));
    });
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', (error) => resolve({ status: undefined, body: '', error: error.message }));
  });
}

/** Sent / failed counts of one phase of the loop. */
export interface PhaseCount {
  sent: number;
  failed: number;
}

/**
 * A steady request loop through several client Envoys (one request to each every `intervalMs`),
 * counting per phase, so a test can say "0 failures during the root rotation" and a bench can
 * print the figures. A request fails unless the backend answered 200 (which it does only when
 * x-forwarded-client-cert carries the expected client ID).
 */
export class RequestLoop {
  readonly phases = new Map<string, PhaseCount>();
  readonly failures: string[] = [];
  private running = true;
  private readonly loop: Promise<void>;
  private counter = 0;

  constructor(
    targets: readonly { readonly label: string; readonly port: number }[],
    private phase: string,
    intervalMs = 50,
  ) {
    this.loop = (async () => {
      while (this.running) {
        const tick = new Promise((resolve) => setTimeout(resolve, intervalMs));
        await Promise.all(targets.map((target) => this.send(target.label, target.port)));
        await tick;
      }
    })();
  }

  private async send(label: string, port: number): Promise<void> {
    const phase = this.phase;
    const count = this.count(phase);
    count.sent++;
    const outcome = await get(port, `/${label}/${++this.counter}`);
    if (outcome.status !== 200) {
      count.failed++;
      this.failures.push(`[${phase}] ${label}: ${String(outcome.status ?? outcome.error)} ${outcome.body.slice(0, 200)}`);
    }
  }

  private count(phase: string): PhaseCount {
    let count = this.phases.get(phase);
    if (!count) this.phases.set(phase, (count = { sent: 0, failed: 0 }));
    return count;
  }

  /** Later requests count toward `phase`. */
  enter(phase: string): void {
    this.phase = phase;
  }

  get sent(): number {
    return [...this.phases.values()].reduce((sum, count) => sum + count.sent, 0);
  }

  get failed(): number {
    return [...this.phases.values()].reduce((sum, count) => sum + count.failed, 0);
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}
