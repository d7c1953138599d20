import { SpiffeIdTemplate } from './spiffe-id-template';

/** What a workload is issued: a concrete SPIFFE ID with what goes into its SVID. */
export interface RegistrationEntry {
  readonly spiffeId: string;
  readonly selectors: readonly string[];
  readonly dnsNames: readonly string[];
  readonly hint?: string;
  /** Trust domain IDs (`spiffe://other.org`) whose bundles this identity is also served. */
  readonly federatesWith?: readonly string[];
  /** Peers this workload accepts (allowed-peers.ts); absent: any peer the bundle validates. */
  readonly allowedPeers?: readonly string[];
}

/**
 * A registration entry as configured: workloads whose selectors include all of `selectors` get
 * `spiffeId`, or the ID `spiffeIdTemplate` renders from their selectors. A selector ending in
 * `:*` (`k8s:ns:*`) requires the type and key with any value.
 */
export interface EntryRule {
  readonly spiffeId?: string;
  readonly spiffeIdTemplate?: string;
  readonly selectors: readonly string[];
  readonly dnsNames: readonly string[];
  readonly hint?: string;
  readonly federatesWith?: readonly string[];
  readonly allowedPeers?: readonly string[];
}

/** The current registration entries; a watched source also says when they change. */
export interface EntrySource {
  current(): readonly EntryRule[];
  subscribe(listener: () => void): () => void;
}

/** Entries held in memory: the config file's `entries`, replaced on a live config reload. */
export class StaticEntrySource implements EntrySource {
  private readonly listeners = new Set<() => void>();
  constructor(private entries: readonly EntryRule[]) {}
  current(): readonly EntryRule[] {
    return this.entries;
  }
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  replace(entries: readonly EntryRule[]): void {
    this.entries = entries;
    for (const listener of this.listeners) listener();
  }
}

export const WILDCARD_SUFFIX = ':*';

function selectorsMatch(required: readonly string[], have: ReadonlySet<string>, workloadSelectors: readonly string[]): boolean {
  return required.every((selector) => {
    if (!selector.endsWith(WILDCARD_SUFFIX)) return have.has(selector);
    const prefix = selector.slice(0, -1); // keep the ':' so k8s:ns:* does not match k8s:nsx:…
    return workloadSelectors.some((candidate) => candidate.startsWith(prefix));
  });
}

const templates = new Map<string, SpiffeIdTemplate>();
function compiled(source: string): SpiffeIdTemplate {
  let template = templates.get(source);
  if (!template) {
    template = SpiffeIdTemplate.parse(source);
    templates.set(source, template);
  }
  return template;
}

export interface MatchOptions {
  readonly trustDomain?: string;
  /** Told about template entries that matched but could not render a valid ID (never minted). */
  readonly onRenderProblem?: (template: string, problem: string) => void;
}

/**
 * Rules indexed by selector, built once per entries list (lists are replaced, never mutated):
 * attestation runs on every new connection, and scanning thousands of entries for each caller
 * was the largest cost under a storm (bench/storm.ts profile). A rule is filed under its first
 * exact selector; rules made only of wildcards are always candidates.
 */
interface RuleIndex {
  readonly bySelector: Map<string, number[]>;
  readonly alwaysCheck: number[];
}
const indexes = new WeakMap<readonly EntryRule[], RuleIndex>();

function indexOf(rules: readonly EntryRule[]): RuleIndex {
  let index = indexes.get(rules);
  if (!index) {
    const built: RuleIndex = { bySelector: new Map(), alwaysCheck: [] };
    rules.forEach((rule, position) => {
      const exact = rule.selectors.find((selector) => !selector.endsWith(WILDCARD_SUFFIX));
      if (exact === undefined) built.alwaysCheck.push(position);
      else {
        const list = built.bySelector.get(exact);
        if (list) list.push(position);
        else built.bySelector.set(exact, [position]);
      }
    });
    index = built;
    indexes.set(rules, index);
  }
  return index;
}

/**
 * Entries whose selectors are a subset of the workload's, in entry order, one per SPIFFE ID (the
 * first wins). The order is stable so the default SVID (the first one) does not flap.
 */
export function matchingEntries(rules: readonly EntryRule[], workloadSelectors: readonly string[], options: MatchOptions = {}): RegistrationEntry[] {
  const have = new Set(workloadSelectors);
  const { bySelector, alwaysCheck } = indexOf(rules);
  const candidates = [...alwaysCheck];
  for (const selector of have) {
    const positions = bySelector.get(selector);
    if (positions) candidates.push(...positions);
  }
  candidates.sort((a, b) => a - b);

  const seen = new Set<string>();
  const matched: RegistrationEntry[] = [];
  for (const position of candidates) {
    const rule = rules[position] as EntryRule;
    if (rule.selectors.length === 0 || !selectorsMatch(rule.selectors, have, workloadSelectors)) continue;
    let spiffeId = rule.spiffeId;
    if (spiffeId === undefined && rule.spiffeIdTemplate !== undefined && options.trustDomain !== undefined) {
      const rendered = compiled(rule.spiffeIdTemplate).render(options.trustDomain, workloadSelectors);
      if ('problem' in rendered) {
        options.onRenderProblem?.(rule.spiffeIdTemplate, rendered.problem);
        continue;
      }
      spiffeId = rendered.spiffeId;
    }
    if (spiffeId === undefined || seen.has(spiffeId)) continue;
    seen.add(spiffeId);
    // A fixed-ID rule already is the entry; only rendered templates need a new object.
    matched.push(
      rule.spiffeId !== undefined
        ? (rule as RegistrationEntry)
        : { spiffeId, selectors: rule.selectors, dnsNames: rule.dnsNames, ...(rule.hint !== undefined ? { hint: rule.hint } : {}), ...(rule.allowedPeers !== undefined ? { allowedPeers: rule.allowedPeers } : {}) },
    );
  }
  return matched;
}
