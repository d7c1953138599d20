import type { EnvoyMesh } from './envoy-mesh';
import { normalSerial, type EnvoyProcess } from './envoy-process';

/** Polling period: fine enough for figures, coarse enough to leave the CPU to Envoy and meshid. */
const POLL_MS = 50;

/**
 * Watches which leaf serials meshid has issued (GET /debug/svids) and which each Envoy holds
 * (admin GET /certs), recording when each was first seen. Tests count the serials an Envoy went
 * through; the bench turns the two first-seen times into "issued → applied" latencies.
 */
export class SerialWatch {
  /** serial → first time meshid listed it. */
  readonly issued = new Map<string, number>();
  /** Envoy name → serial → first time that Envoy's /certs showed it. */
  readonly applied = new Map<string, Map<string, number>>();
  /** Serials already there at the first poll: their issue time is unknown, so no latency. */
  private readonly baseline = new Set<string>();
  private polls = 0;
  private running = true;
  private readonly loop: Promise<void>;

  constructor(
    private readonly mesh: EnvoyMesh,
    private readonly watched: readonly { readonly envoy: EnvoyProcess; readonly spiffeId: string }[],
  ) {
    for (const { envoy } of watched) this.applied.set(envoy.name, new Map());
    this.loop = (async () => {
      while (this.running) {
        await this.poll();
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    })();
  }

  private async poll(): Promise<void> {
    // meshid is down during a restart: its serials are simply not sampled then.
    const issued = await this.mesh.meshidSerials().catch(() => new Map<string, string>());
    const now = Date.now();
    for (const serial of [...issued.values()].map(normalSerial)) {
      if (this.polls === 0) this.baseline.add(serial);
      if (!this.issued.has(serial)) this.issued.set(serial, now);
    }
    if (issued.size > 0) this.polls++;
    await Promise.all(
      this.watched.map(async ({ envoy, spiffeId }) => {
        const serials = await envoy.leafSerials(spiffeId).catch(() => new Set<string>());
        const seen = this.applied.get(envoy.name);
        const at = Date.now();
        for (const serial of serials) if (seen && !seen.has(serial)) seen.set(serial, at);
      }),
    );
  }

  /** The serials `envoy` has held, in the order it got them. */
  serialsOf(envoy: EnvoyProcess): string[] {
    return [...(this.applied.get(envoy.name)?.keys() ?? [])];
  }

  /** Every serial seen both at meshid (after the first poll) and at an Envoy: when issued, and how long until that Envoy showed it. */
  latencies(): { readonly envoy: string; readonly issuedAt: number; readonly ms: number }[] {
    const result: { envoy: string; issuedAt: number; ms: number }[] = [];
    for (const [envoy, seen] of this.applied) {
      for (const [serial, at] of seen) {
        const issuedAt = this.issued.get(serial);
        if (issuedAt !== undefined && !this.baseline.has(serial)) result.push({ envoy, issuedAt, ms: Math.max(0, at - issuedAt) });
      }
    }
    return result;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}
