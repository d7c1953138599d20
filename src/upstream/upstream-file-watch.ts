import type { Logger } from 'pino';
import { FileContentWatcher } from '../common/file-content-watcher';

/** Operators replace certFile and keyFile one after the other; one look at both is enough. */
const SETTLE_MS = 250;

/**
 * Watches an upstream's files (certificate, key, bundle, passphrase) and says when any of them
 * changed content. A file removed or unreadable is not a change: the upstream already loaded
 * keeps signing (its key is in memory or in the HSM), and the same content put back is no change.
 */
export class UpstreamFileWatch {
  private readonly watchers: FileContentWatcher[];
  private settle: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(files: readonly string[], onChange: () => void, logger: Logger) {
    const changed = (): void => {
      clearTimeout(this.settle);
      // Real time, not Clock: it lets an operator's real file writes settle (no decision depends on it).
      this.settle = setTimeout(() => {
        if (!this.stopped) onChange();
      }, SETTLE_MS);
      this.settle.unref();
    };
    this.watchers = [...new Set(files)].map((file) => new FileContentWatcher(file, changed, logger));
  }

  async start(): Promise<void> {
    await Promise.all(this.watchers.map((watcher) => watcher.start()));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.settle);
    await Promise.all(this.watchers.map((watcher) => watcher.stop()));
  }
}
