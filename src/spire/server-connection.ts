import * as grpc from '@grpc/grpc-js';
import type { PeerCertificate } from 'node:tls';
import { derToPem } from '../identity/pem';
import { spireApi, type AgentClient, type BundleClient, type EntryClient, type SvidClient } from './spire-api';

/** Calls already started on a replaced channel (the RPC deadline is 30 s) finish within this. */
const RETIRED_CHANNEL_GRACE_MS = 35_000;

/** The node's credentials towards the server: the agent X509-SVID chain (leaf first) and its key. */
export interface ClientIdentity {
  readonly chainDer: readonly Buffer[];
  readonly privateKeyPem: string;
}

interface Clients {
  readonly agent: AgentClient;
  readonly svid: SvidClient;
  readonly bundle: BundleClient;
  readonly entry: EntryClient;
}

/**
 * One gRPC channel to spire-server, authenticated both ways with SPIFFE IDs: the server must
 * present an X509-SVID for `spiffe://<td>/spire/server` chaining to the current bundle (what
 * spire-agent checks: pkg/agent/client/dial.go, tlsconfig.AuthorizeID(idutil.ServerID(td))),
 * and the node presents its agent SVID once it has one. A new bundle or a renewed agent SVID
 * builds a new channel; calls in flight on the old one finish.
 */
export class ServerConnection {
  private clients: Clients | undefined;
  private rootsDer: readonly Buffer[];
  private identity: ClientIdentity | undefined;
  private readonly retiring = new Set<NodeJS.Timeout>();
  readonly serverId: string;
  private readonly trustDomain: string;

  constructor(
    private readonly address: string,
    trustDomain: string,
    rootsDer: readonly Buffer[],
  ) {
    this.rootsDer = rootsDer;
    this.trustDomain = trustDomain;
    this.serverId = `spiffe://${trustDomain}/spire/server`;
  }

  get api(): Clients {
    this.clients ??= this.connect();
    return this.clients;
  }

  setRoots(rootsDer: readonly Buffer[]): void {
    this.rootsDer = rootsDer;
    this.reset();
  }

  setIdentity(identity: ClientIdentity): void {
    this.identity = identity;
    this.reset();
  }

  close(): void {
    this.closeClients(this.clients);
    this.clients = undefined;
    for (const timer of this.retiring) clearTimeout(timer);
    this.retiring.clear();
  }

  /**
   * The next call builds a new channel. The old one is closed a little later, not at once:
   * closing a channel fails calls still waiting for it to connect ("Channel closed before call
   * started"), and a bundle update can land while a renewal is being sent.
   */
  private reset(): void {
    const old = this.clients;
    this.clients = undefined;
    if (!old) return;
    // Real time, not Clock: it waits for grpc-js calls in flight on a real channel.
    const timer = setTimeout(() => {
      this.retiring.delete(timer);
      this.closeClients(old);
    }, RETIRED_CHANNEL_GRACE_MS);
    timer.unref();
    this.retiring.add(timer);
  }

  private closeClients(clients: Clients | undefined): void {
    if (clients) for (const client of Object.values(clients)) client.close();
  }

  private connect(): Clients {
    const roots = Buffer.from(this.rootsDer.map((der) => derToPem('CERTIFICATE', der)).join(''));
    const identity = this.identity;
    const expected = this.serverId;
    const credentials = grpc.credentials.createSsl(
      roots,
      identity ? Buffer.from(identity.privateKeyPem) : null,
      identity ? Buffer.from(identity.chainDer.map((der) => derToPem('CERTIFICATE', der)).join('')) : null,
      {
        // The chain was verified against the bundle; the name to check is the SPIFFE ID, not the host.
        checkServerIdentity: (_host: string, certificate: PeerCertificate) => {
          const uris = (certificate.subjectaltname ?? '').split(', ').filter((name) => name.startsWith('URI:')).map((name) => name.slice(4));
          return uris.length === 1 && uris[0] === expected ? undefined : new Error(`spire-server presented ${uris.join(', ') || 'no SPIFFE ID'}, expected ${expected}`);
        },
      },
    );
    // One channel shared by the four services (grpc-js pools subchannels by address and credentials).
    const api = spireApi();
    // SNI names the trust domain: the server is identified by its SPIFFE ID, and an IP address
    // is not a valid SNI name (RFC 6066 §3; Node warns DEP0123).
    // Reconnection backoff capped at 30 s (grpc's default cap is 120 s): a restarted server is
    // found again within one cap, while SVIDs already held keep being served meanwhile.
    const options: grpc.ChannelOptions = {
      'grpc.keepalive_time_ms': 60_000,
      'grpc.ssl_target_name_override': this.trustDomain,
      'grpc.initial_reconnect_backoff_ms': 1_000,
      'grpc.max_reconnect_backoff_ms': 30_000,
    };
    return {
      agent: new api.Agent(this.address, credentials, options),
      svid: new api.SVID(this.address, credentials, options),
      bundle: new api.Bundle(this.address, credentials, options),
      entry: new api.Entry(this.address, credentials, options),
    };
  }
}
