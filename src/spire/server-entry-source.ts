import type { EntryRule, EntrySource } from '../entries/entries';
import { workloadRules } from './server-entries';
import type { ServerSync } from './server-sync';

/** The server's workload entries for this node as an EntrySource: replaced on every change the sync sees. */
export class ServerEntrySource implements EntrySource {
  private rules: readonly EntryRule[];
  private readonly listeners = new Set<() => void>();

  constructor(sync: ServerSync) {
    this.rules = workloadRules(sync.currentEntries);
    sync.onEntries((entries) => {
      this.rules = workloadRules(entries);
      for (const listener of this.listeners) listener();
    });
  }

  current(): readonly EntryRule[] {
    return this.rules;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
