/**
 * The latest notAfter of everything issued under each upstream epoch (one epoch per upstream
 * authority the node CA has signed with). Root rotation drops the old roots from bundles only
 * once the old epoch's last leaf has expired: a leaf already handed out stays in a workload's
 * hands until then, whatever the store holds now.
 */
export class IssuedExpiryLedger {
  private readonly leaves = new Map<number, number>();
  private readonly intermediates = new Map<number, number>();

  noteLeaf(epoch: number, notAfterMs: number): void {
    this.leaves.set(epoch, Math.max(this.leaves.get(epoch) ?? 0, notAfterMs));
  }

  noteIntermediate(epoch: number, notAfterMs: number): void {
    this.intermediates.set(epoch, Math.max(this.intermediates.get(epoch) ?? 0, notAfterMs));
  }

  /**
   * When the last certificate of every epoch up to `epoch` expires: the latest leaf if any was
   * issued, never later than the latest intermediate (a leaf cannot outlive its issuer).
   */
  lastExpiryUpTo(epoch: number): number {
    let latest = 0;
    for (const [issuedEpoch, intermediateNotAfter] of this.intermediates) {
      if (issuedEpoch > epoch) continue;
      const leaf = this.leaves.get(issuedEpoch);
      latest = Math.max(latest, leaf === undefined ? 0 : Math.min(leaf, intermediateNotAfter));
    }
    return latest;
  }

  /** Forgets epochs whose certificates have all expired (they can no longer delay a drop). */
  forgetUpTo(epoch: number): void {
    for (const map of [this.leaves, this.intermediates]) for (const key of [...map.keys()]) if (key <= epoch) map.delete(key);
  }
}
