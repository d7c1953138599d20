import { LatestValuePusher, type Rendered } from '../common/latest-value-pusher';
import type { StoreChange } from '../rotation/svid-store';
import type { SecretStreamContext } from './secret-stream-context';
import { isMeshidError } from '../common/errors';
import type { RegistrationEntry } from '../entries/entries';
import { partlyRestricted } from '../entries/allowed-peers';
import { checkDeltaSubscriptions, deltaSubscribedAfter } from '../serving/request-limits';
import { SECRET_TYPE_URL, type DeltaDiscoveryRequest, type DeltaDiscoveryResponse } from './messages';
import { contentVersion, highestBundleVersion, renderSecret, type RenderedSecret } from './render-secrets';
import { quoteName, resolveSecretName, warnIfPeersIgnored, warnIfRestrictionVoid, WILDCARD, type SecretSource } from './secret-names';
import { requireSecretTypeUrl, sameSource, sourceAffectedBy } from './stream-rules';
import { ignoresTypedSanMatchers, validatorFormFor, type ValidatorForm } from './validator-choice';

/** What one delta response carries, before it gets its nonce. */
interface DeltaChanges {
  readonly resources: readonly RenderedSecret[];
  readonly removed: readonly string[];
}

/** clientHas value for a name the client was told does not exist (versions are never empty). */
const TOLD_ABSENT = '';
/** Responses remembered for NACK logging; an Envoy answers each at once, so a few suffice. */
const MAX_UNANSWERED = 32;

/**
 * One DeltaSecrets (incremental xDS) stream (envoy/api/xds_protocol "Incremental xDS"):
 * - subscriptions change only through resource_names_subscribe / _unsubscribe, honoured whatever
 *   the nonce (the spec forbids rejecting them as stale);
 * - each response carries only what the client does not have yet: a name is sent when its
 *   current version differs from the one the client holds (sent on this stream, or declared in
 *   initial_resource_versions on the first request); subscribing again to a name resends it;
 * - a subscribed name that does not exist (another trust domain's bundle, or a name meaning
 *   nothing to meshid) is answered once in removed_resources; so is a SPIFFE ID the caller does
 *   not hold (logged at warn with the reason). xDS "Knowing When a Requested Resource Does Not
 *   Exist": the incremental variant says so in removed_resources, and a Delta stream multiplexes
 *   names, so one refused name must not take the good ones down with it. To the caller "not
 *   yours" and "does not exist" look the same, so nothing reveals which identities exist.
 *   (State of the world, which cannot say "does not exist", still ends with PERMISSION_DENIED.)
 * - a name withdrawn while subscribed (the registration no longer grants it) is answered in
 *   removed_resources and stays subscribed: if it is granted again, it is sent again;
 * - ACK / NACK refer to a response by its nonce; a NACK is logged with the names and versions it
 *   rejected, and those versions are not sent again (only a newer version is);
 * - the wildcard ("*", or a first request subscribing to nothing) selects no secret (WILDCARD);
 *   unsubscribing a name while the wildcard is on answers it in removed_resources, as the spec
 *   requires when a wildcard is combined with names;
 * - `node` is read from the first request only;
 * - store changes reach the stream through a one-slot mailbox, so a client that stops reading
 *   holds at most one pending response and never delays another stream.
 */
export class DeltaSecretStream {
  private form: ValidatorForm = 'trusted-ca';
  private firstSeen = false;
  private wildcard = false;
  /** Subscribed names; undefined marks a name that does not exist. */
  private readonly subscribed = new Map<string, SecretSource | undefined>();
  /** name → version the client holds, as far as this stream knows (TOLD_ABSENT: told removed). */
  private readonly clientHas = new Map<string, string>();
  /** Names unsubscribed under a wildcard: they must be answered in removed_resources. */
  private readonly pendingRemovals = new Set<string>();
  private readonly unanswered = new Map<string, DeltaChanges>();
  private nonceCounter = 0;
  private renderCounter = 0;
  /** The highest bundle version among the responses the client ACKed. */
  private ackedVersion: number | undefined;
  private readonly pusher: LatestValuePusher<DeltaChanges, DeltaDiscoveryResponse>;

  /** Whether the caller's allowedPeers are void (warned once per change, see warnIfRestrictionVoid). */
  private restrictionVoid = false;
  constructor(
    private readonly context: SecretStreamContext,
    private entries: readonly RegistrationEntry[],
  ) {
    this.restrictionVoid = warnIfRestrictionVoid(entries, this.context.logger);
    this.pusher = new LatestValuePusher(context.sink, () => this.render(), context.onError, (changes) => this.toResponse(changes), context.onSent);
  }

  onStoreChange(change: StoreChange): void {
    for (const source of this.subscribed.values()) {
      if (source && sourceAffectedBy(source, change)) {
        this.pusher.notify();
        return;
      }
    }
  }

  handle(request: DeltaDiscoveryRequest): void {
    requireSecretTypeUrl(request.type_url);
    checkDeltaSubscriptions(request.resource_names_subscribe, request.resource_names_unsubscribe, this.subscribed);
    // The caller's total over all its streams, checked before anything is applied; O(request).
    const lease = this.context.lease;
    if (lease && (request.resource_names_subscribe.length > 0 || request.resource_names_unsubscribe.length > 0)) {
      lease.resize(deltaSubscribedAfter(request.resource_names_subscribe, request.resource_names_unsubscribe, this.subscribed));
    }
    const first = !this.firstSeen;
    this.firstSeen = true;
    if (first) {
      this.form = validatorFormFor(request.node);
      warnIfPeersIgnored(this.entries, ignoresTypedSanMatchers(request.node), this.context.logger);
    }
    if (request.response_nonce !== '') this.acknowledge(request);

    const unsubscribed = this.unsubscribe(request.resource_names_unsubscribe);
    const subscribed = this.subscribe(request.resource_names_subscribe, first ? request.initial_resource_versions : {});
    lease?.resize(this.subscribed.size); // exact (the wildcard is no name); never more than reserved
    // Legacy wildcard: a first request naming nothing (it selects no secret, see WILDCARD).
    if (first && request.resource_names_subscribe.length === 0 && request.resource_names_unsubscribe.length === 0) this.wildcard = true;
    if (subscribed || unsubscribed) this.pusher.notify();
  }

  /** The registration changed: re-resolve every subscribed name against the caller's new entries. */
  updateEntries(entries: readonly RegistrationEntry[]): void {
    this.entries = entries;
    const voided = partlyRestricted(entries);
    if (voided && !this.restrictionVoid) warnIfRestrictionVoid(entries, this.context.logger);
    this.restrictionVoid = voided;
    let changed = false;
    for (const [name, previous] of this.subscribed) {
      const next = this.resolveOrWithdraw(name);
      // Always the new entry (its DNS names may differ); a response only if what it serves did.
      this.subscribed.set(name, next);
      if (!sameSource(previous, next)) changed = true;
    }
    if (changed) this.pusher.notify();
  }

  close(): void {
    this.pusher.close();
  }

  servesBundle(): boolean {
    return [...this.subscribed.values()].some((source) => source?.kind === 'bundle');
  }

  ackedBundleVersion(): number | undefined {
    return this.ackedVersion;
  }

  private resolveOrWithdraw(name: string): SecretSource | undefined {
    try {
      return resolveSecretName(name, this.entries, this.context.trustDomain);
    } catch (error) {
      if (isMeshidError(error, 'NO_IDENTITY')) return undefined; // withdrawn, not refused: it was granted when subscribed
      throw error;
    }
  }

  /** A name the caller may not hold is answered as absent (removed_resources), with a warning saying why. */
  private resolveOrRefuse(name: string): SecretSource | undefined {
    try {
      return resolveSecretName(name, this.entries, this.context.trustDomain);
    } catch (error) {
      if (!isMeshidError(error, 'NO_IDENTITY')) throw error;
      this.context.logger.warn(
        { secret: quoteName(name), holds: this.entries.map((entry) => entry.spiffeId), reason: error.message },
        'DeltaSecrets: refused a secret the caller does not hold; answered in removed_resources, the stream stays open',
      );
      return undefined;
    }
  }

  private acknowledge(request: DeltaDiscoveryRequest): void {
    const nonce = request.response_nonce;
    const answered = this.unanswered.get(nonce);
    this.unanswered.delete(nonce);
    if (!request.error_detail) {
      // Delta responses carry only what changed: a bundle ACKed earlier is still held.
      const version = answered ? highestBundleVersion(answered.resources) : undefined;
      if (version !== undefined && version > (this.ackedVersion ?? 0)) this.ackedVersion = version;
      return;
    }
    // The rejected versions stay recorded in clientHas, so they are not sent again.
    this.context.logger.warn(
      {
        nonce,
        rejected: answered?.resources.map((secret) => `${secret.name}@${secret.version}`),
        reason: quoteName(request.error_detail.message),
      },
      'Envoy rejected secrets (NACK)',
    );
  }

  /** Returns whether a response may be needed. */
  private unsubscribe(names: readonly string[]): boolean {
    let respond = false;
    for (const name of names) {
      if (name === WILDCARD) {
        this.wildcard = false;
        continue;
      }
      if (!this.subscribed.delete(name)) continue; // phantom unsubscription: nothing to do
      this.clientHas.delete(name);
      if (this.wildcard) {
        this.pendingRemovals.add(name);
        respond = true;
      }
    }
    return respond;
  }

  private subscribe(names: readonly string[], initialVersions: Readonly<Record<string, string>>): boolean {
    let changed = false;
    for (const name of names) {
      if (name === WILDCARD) {
        this.wildcard = true;
        continue;
      }
      this.subscribed.set(name, this.resolveOrRefuse(name));
      this.pendingRemovals.delete(name);
      const declared = initialVersions[name];
      if (declared) this.clientHas.set(name, declared);
      else this.clientHas.delete(name); // the client may have forgotten it: resend (spec)
      changed = true;
    }
    return changed;
  }

  private async render(): Promise<Rendered<DeltaChanges> | undefined> {
    const form = this.form;
    const wanted = [...this.subscribed];
    const current = await Promise.all(wanted.map(([name, source]) => (source ? renderSecret(name, source, this.context.store, form) : undefined)));

    // Compared after the await: requests handled meanwhile changed what the client has or wants.
    const resources: RenderedSecret[] = [];
    const removed = [...this.pendingRemovals];
    wanted.forEach(([name, source], index) => {
      if (!this.subscribed.has(name) || !sameSource(this.subscribed.get(name), source)) return; // next round
      const secret = current[index];
      const has = this.clientHas.get(name);
      if (!secret) {
        if (has !== TOLD_ABSENT) removed.push(name);
      } else if (has !== secret.version) {
        resources.push(secret);
      }
    });
    if (resources.length === 0 && removed.length === 0) return undefined;
    // Every render differs from the last by construction; a repeat is a legitimate resend.
    return { fingerprint: String(++this.renderCounter), message: { resources, removed } };
  }

  private toResponse(changes: DeltaChanges): DeltaDiscoveryResponse {
    const nonce = String(++this.nonceCounter);
    for (const secret of changes.resources) this.clientHas.set(secret.name, secret.version);
    for (const name of changes.removed) {
      this.pendingRemovals.delete(name);
      if (this.subscribed.has(name)) this.clientHas.set(name, TOLD_ABSENT);
    }
    this.unanswered.set(nonce, changes);
    if (this.unanswered.size > MAX_UNANSWERED) {
      const oldest = this.unanswered.keys().next().value;
      if (oldest !== undefined) this.unanswered.delete(oldest);
    }
    return {
      system_version_info: this.systemVersion(),
      resources: changes.resources.map((secret) => ({ name: secret.name, version: secret.version, resource: secret.resource })),
      type_url: SECRET_TYPE_URL,
      removed_resources: [...changes.removed],
      nonce,
    };
  }

  /** For debugging only (the spec says clients do not use it): a digest of what the client holds. */
  private systemVersion(): string {
    const held = [...this.clientHas].filter(([, version]) => version !== TOLD_ABSENT).map(([name, version]) => `${name}@${version}`);
    return contentVersion(held.sort().join(';'));
  }
}
