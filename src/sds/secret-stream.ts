import { LatestValuePusher } from '../common/latest-value-pusher';
import type { StoreChange } from '../rotation/svid-store';
import type { SecretStreamContext } from './secret-stream-context';
import type { RegistrationEntry } from '../entries/entries';
import { partlyRestricted } from '../entries/allowed-peers';
import { checkSotwNames } from '../serving/request-limits';
import { SECRET_TYPE_URL, type DiscoveryRequest, type DiscoveryResponse } from './messages';
import { renderSecrets, type RenderedSecrets } from './render-secrets';
import { requireSecretTypeUrl, sameSource, sourceAffectedBy } from './stream-rules';
import { resolveSecretNames, warnIfPeersIgnored, warnIfRestrictionVoid, type SecretSource } from './secret-names';
import { ignoresTypedSanMatchers, validatorFormFor, type ValidatorForm } from './validator-choice';

/**
 * One StreamSecrets (state-of-the-world xDS) stream. The xDS rules it follows
 * (envoy/api/xds_protocol "ACK and NACK semantics", "How the client specifies what resources to
 * return"):
 * - `node` is read from the first request only: with set_node_on_first_message_only Envoy sends
 *   it once, and the spec says it is identical whenever repeated;
 * - a request with an empty nonce (first request, or a reconnecting Envoy presenting its last
 *   accepted version) is always answered;
 * - a request whose nonce is not the latest sent is stale and ignored;
 * - an ACK (latest nonce, no error_detail) with unchanged names causes no response;
 * - a NACK (error_detail set) is logged and the same content is not sent again;
 * - an empty name list selects no secret: the legacy wildcard (which defines nothing for
 *   secrets, see WILDCARD) and an unsubscription after explicit names both get a response with
 *   no resources;
 * - a change in the store is pushed at once with a new version and nonce, without waiting for
 *   the previous ACK;
 * - a registration change that withdraws a subscribed name ends the stream with
 *   PERMISSION_DENIED naming it (SotW cannot say "removed" for secrets).
 */
export class SecretStream {
  private sources = new Map<string, SecretSource>();
  private names: readonly string[] = [];
  private namesKey: string | undefined;
  private form: ValidatorForm = 'trusted-ca';
  private latestNonce = '';
  private nonceCounter = 0;
  /** Bundle version in the latest response sent, and in the latest one the client ACKed. */
  private sentBundleVersion: number | undefined;
  private ackedVersion: number | undefined;
  private readonly pusher: LatestValuePusher<RenderedSecrets, DiscoveryResponse>;

  /** Whether the caller's allowedPeers are void (warned once per change, see warnIfRestrictionVoid). */
  private restrictionVoid = false;
  constructor(
    private readonly context: SecretStreamContext,
    private entries: readonly RegistrationEntry[],
  ) {
    this.restrictionVoid = warnIfRestrictionVoid(entries, this.context.logger);
    this.pusher = new LatestValuePusher(context.sink, () => renderSecrets(this.sources, this.context.store, this.form), context.onError, (rendered) => this.toResponse(rendered), context.onSent);
  }

  onStoreChange(change: StoreChange): void {
    for (const source of this.sources.values()) {
      if (sourceAffectedBy(source, change)) {
        this.pusher.notify();
        return;
      }
    }
  }

  handle(request: DiscoveryRequest): void {
    requireSecretTypeUrl(request.type_url);
    checkSotwNames(request.resource_names);
    const first = this.namesKey === undefined;
    if (first) {
      this.form = validatorFormFor(request.node);
      warnIfPeersIgnored(this.entries, ignoresTypedSanMatchers(request.node), this.context.logger);
    }
    const nonce = request.response_nonce;
    if (!first && nonce !== '' && nonce !== this.latestNonce) return; // stale: answers an older response

    const namesChanged = this.subscribe(request.resource_names);
    if (request.error_detail) {
      this.context.logger.warn({ names: [...this.sources.keys()], version: request.version_info, reason: request.error_detail.message }, 'Envoy rejected secrets (NACK)');
      if (namesChanged) this.pusher.notify();
      return;
    }
    if (nonce !== '' && nonce === this.latestNonce && this.sentBundleVersion !== undefined) this.ackedVersion = this.sentBundleVersion;
    if (nonce === '') {
      this.pusher.forgetLastSent();
      this.pusher.notify();
    } else if (namesChanged) {
      this.pusher.notify();
    }
  }

  /** The registration changed: re-resolve the names; throws PERMISSION_DENIED for a withdrawn one. */
  updateEntries(entries: readonly RegistrationEntry[]): void {
    this.entries = entries;
    const voided = partlyRestricted(entries);
    if (voided && !this.restrictionVoid) warnIfRestrictionVoid(entries, this.context.logger);
    this.restrictionVoid = voided;
    const sources = resolveSecretNames(this.names, entries, this.context.trustDomain);
    const changed = [...sources].some(([name, source]) => !sameSource(this.sources.get(name), source));
    this.sources = sources;
    if (changed) this.pusher.notify();
  }

  close(): void {
    this.pusher.close();
  }

  servesBundle(): boolean {
    return [...this.sources.values()].some((source) => source.kind === 'bundle');
  }

  ackedBundleVersion(): number | undefined {
    return this.ackedVersion;
  }

  /** Replaces the subscribed names; throws PERMISSION_DENIED naming a name the caller may not have. */
  private subscribe(names: readonly string[]): boolean {
    const key = names.join('\n');
    if (key === this.namesKey) return false;
    // The caller's total over all its streams, before anything is resolved; O(request).
    this.context.lease?.resize(new Set(names).size);
    this.sources = resolveSecretNames(names, this.entries, this.context.trustDomain);
    this.context.lease?.resize(this.sources.size); // exact (the wildcard is no name)
    this.names = [...names];
    this.namesKey = key;
    return true;
  }

  private toResponse(rendered: RenderedSecrets): DiscoveryResponse {
    this.latestNonce = String(++this.nonceCounter);
    this.sentBundleVersion = rendered.bundleVersion;
    return { version_info: rendered.version, resources: rendered.resources, type_url: SECRET_TYPE_URL, nonce: this.latestNonce };
  }
}
