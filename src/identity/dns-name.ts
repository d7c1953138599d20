/**
 * dNSName SAN values must be in the "preferred name syntax" (RFC 5280 §4.2.1.6 citing RFC 1034
 * §3.5): LDH labels of 1–63 characters, 253 in all, ASCII only (the field is an IA5String, so a
 * non-ASCII name would be silently mangled). A wildcard is allowed as the whole leftmost label
 * only (RFC 6125 §6.4.3), as relying TLS stacks understand nothing else.
 */
const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const MAX_DNS_NAME = 253;

/** undefined when `name` can go into a dNSName SAN, else the reason it cannot. */
export function validateDnsName(name: string): string | undefined {
  if (name.length === 0) return 'DNS name is empty';
  if (name.length > MAX_DNS_NAME) return `DNS name is longer than ${MAX_DNS_NAME} characters`;
  const labels = name.split('.');
  const first = labels[0] === '*' && labels.length > 1 ? 1 : 0;
  for (const label of labels.slice(first)) {
    if (!LABEL.test(label)) return `DNS name "${name}" has an invalid label "${label}" (letters, digits and inner "-" only, 1-63 characters)`;
  }
  return undefined;
}
