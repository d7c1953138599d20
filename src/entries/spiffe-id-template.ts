import { isMeshidError, MeshidError } from '../common/errors';
import { SpiffeId } from '../identity/spiffe-id';

/**
 * An entry's SPIFFE ID derived from the workload's own selectors, so one entry can give every pod
 * its Istio-style identity: `spiffe://{{trustDomain}}/ns/{{k8s.ns}}/sa/{{k8s.sa}}`.
 *
 * `{{trustDomain}}` is the agent's trust domain; `{{<type>.<key>}}` is the value of the
 * workload's first selector `<type>:<key>:<value>`. The key may itself hold a label key after a
 * colon: `{{k8s.pod-label:app}}` reads `k8s:pod-label:app:<value>`.
 */
const PLACEHOLDER = /\{\{\s*([^{}\s]+)\s*\}\}/g;

export interface TemplatePart {
  readonly literal?: string;
  /** `trustDomain`, or the selector prefix `<type>:<key>:` the value is read from. */
  readonly selectorPrefix?: string;
  readonly trustDomain?: true;
}

export class SpiffeIdTemplate {
  private constructor(
    readonly source: string,
    private readonly parts: readonly TemplatePart[],
  ) {}

  /** Throws INVALID_CONFIG naming the first problem (stray braces, an unknown placeholder form). */
  static parse(source: string): SpiffeIdTemplate {
    const parts: TemplatePart[] = [];
    let last = 0;
    for (const match of source.matchAll(PLACEHOLDER)) {
      const name = match[1] ?? '';
      parts.push({ literal: source.slice(last, match.index) });
      if (name === 'trustDomain') parts.push({ trustDomain: true });
      else {
        const dot = name.indexOf('.');
        if (dot <= 0 || dot === name.length - 1) {
          throw new MeshidError('INVALID_CONFIG', `placeholder "{{${name}}}" is neither {{trustDomain}} nor {{<type>.<key>}} (e.g. {{k8s.ns}})`);
        }
        parts.push({ selectorPrefix: `${name.slice(0, dot)}:${name.slice(dot + 1)}:` });
      }
      last = match.index + match[0].length;
    }
    parts.push({ literal: source.slice(last) });
    if (parts.some((part) => part.literal?.includes('{{') || part.literal?.includes('}}'))) {
      throw new MeshidError('INVALID_CONFIG', `"${source}" has an unbalanced or empty {{ }} placeholder`);
    }
    if (!source.startsWith('spiffe://')) throw new MeshidError('INVALID_CONFIG', `"${source}" must start with spiffe://`);
    return new SpiffeIdTemplate(source, parts.filter((part) => part.literal !== ''));
  }

  /** The selector prefixes this template reads, e.g. `k8s:ns:` (for config checks). */
  get selectorPrefixes(): string[] {
    return this.parts.flatMap((part) => (part.selectorPrefix ? [part.selectorPrefix] : []));
  }

  /**
   * The rendered ID, or a reason it cannot be rendered for this workload: a selector it reads is
   * missing, or the result is not a valid workload SPIFFE ID (a value with "/" or spaces would
   * otherwise forge a different path).
   */
  render(trustDomain: string, selectors: readonly string[]): { spiffeId: string } | { problem: string } {
    let text = '';
    for (const part of this.parts) {
      if (part.literal !== undefined) text += part.literal;
      else if (part.trustDomain) text += trustDomain;
      else if (part.selectorPrefix) {
        const prefix = part.selectorPrefix;
        const selector = selectors.find((candidate) => candidate.startsWith(prefix));
        if (selector === undefined) return { problem: `workload has no ${prefix}<value> selector` };
        const value = selector.slice(prefix.length);
        // A value is one path segment: no "/" may smuggle extra segments into the ID.
        if (value.includes('/')) return { problem: `selector value "${value}" for ${prefix} contains "/"` };
        text += value;
      }
    }
    try {
      const id = SpiffeId.parse(text);
      if (id.isRoot) return { problem: `"${text}" has no path` };
      if (id.trustDomain !== trustDomain) return { problem: `"${text}" is not in trust domain "${trustDomain}"` };
      return { spiffeId: id.toString() };
    } catch (error) {
      if (isMeshidError(error)) return { problem: error.message };
      throw error;
    }
  }
}
