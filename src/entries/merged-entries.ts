import type { EntryRule, EntrySource } from './entries';

/**
 * Local entries (config file, entriesFile) followed by a remote source's (a SPIRE server's):
 * local ones first, so their order keeps deciding the default SVID. A change in either is a
 * change of the whole; the merged list is rebuilt only then, so the resolver's per-list index
 * (entries.ts) is built once per change.
 */
export class MergedEntrySource implements EntrySource {
  private merged: readonly EntryRule[];
  private readonly listeners = new Set<() => void>();

  constructor(private readonly sources: readonly EntrySource[]) {
    this.merged = this.build();
    for (const source of sources) {
      source.subscribe(() => {
        this.merged = this.build();
        for (const listener of this.listeners) listener();
      });
    }
  }

  current(): readonly EntryRule[] {
    return this.merged;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private build(): readonly EntryRule[] {
    return this.sources.flatMap((source) => source.current());
  }
}
