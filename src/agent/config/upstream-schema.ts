import { z } from 'zod';
import { describeValue, duration, mapping, oneOf, required, text, wholeNumber, type FileField } from './field-schemas';

/** `upstream:`, one mapping per type; the keys of one type are unknown keys for another. */
export function upstreamSchema(file: FileField) {
  return z.discriminatedUnion('type', [
    mapping({ type: z.literal('self-signed') }),
    diskUpstreamSchema(file),
    pkcs11UpstreamSchema(file),
    spireUpstreamSchema(file),
  ]);
}

function diskUpstreamSchema(file: FileField) {
  const requiredFile = () => file('is required when upstream.type is "disk"');
  return mapping({ type: z.literal('disk'), certFile: requiredFile(), keyFile: requiredFile(), keyPassphraseFile: file().optional(), bundleFile: file().optional() });
}

/** The CA key is in an HSM reached through a PKCS#11 module; exactly one of tokenLabel and slot (a slot ID). */
function pkcs11UpstreamSchema(file: FileField) {
  const whenMissing = 'is required when upstream.type is "pkcs11"';
  return mapping({
    type: z.literal('pkcs11'),
    module: file(whenMissing),
    tokenLabel: text().optional(),
    slot: wholeNumber(0, { notNumber: (issue) => `must be a slot ID (a number), got ${describeValue(issue.input)}`, notWhole: () => 'must be a whole number', belowMin: () => 'must not be negative' }).optional(),
    keyLabel: text(whenMissing),
    pinFile: file(whenMissing),
    certFile: file(whenMissing),
    bundleFile: file().optional(),
  }).superRefine((value, ctx) => {
    if ((value.tokenLabel === undefined) === (value.slot === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'set exactly one of tokenLabel and slot to choose the token', path: [] });
    }
  });
}

/**
 * meshid joins a SPIRE server as its node agent (src/spire/). The keys are pinned by
 * issue 11: serverAddress, bootstrapBundleFile, joinTokenFile, mode.
 * - serverAddress: host:port of spire-server's agent API (its `bind_address:bind_port`).
 * - bootstrapBundleFile: the server's trust bundle (PEM), trusted only until the first bundle comes from the server.
 * - joinTokenFile: a join token, used once: later starts reuse the agent SVID kept in dataDir.
 * - mode: downstream, the node holds an intermediate from NewDownstreamX509CA; server-signed, each SVID is signed by the server.
 * - syncInterval: how often the authorized entries and the bundle are fetched.
 * - nodeAttestor: node attestation other than a join token (the DaemonSet case): k8s_psat.
 */
function spireUpstreamSchema(file: FileField) {
  const whenMissing = (what: string): string => `is required when upstream.type is "spire" (${what})`;
  return mapping({
    type: z.literal('spire'),
    serverAddress: z.string({ error: required('a host:port string', whenMissing('host:port of spire-server, e.g. 127.0.0.1:8081')) }).superRefine((value, ctx) => {
      const problem = serverAddressProblem(value);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    }),
    bootstrapBundleFile: file(whenMissing('the server\'s trust bundle: `spire-server bundle show > bundle.pem`')),
    joinTokenFile: file().optional(),
    mode: oneOf(['downstream', 'server-signed']).default('downstream'),
    // spire pkg/agent/manager: defaultSyncInterval 5s.
    syncInterval: duration(500).default('5s'),
    nodeAttestor: mapping({
      type: z.literal('k8s_psat', { error: (issue) => `${describeValue(issue.input)} is not a supported node attestor (k8s_psat; join tokens use joinTokenFile)` }),
      cluster: text(),
      // Where the DaemonSet mounts the projected token, as spire-agent's k8s_psat expects it by default.
      tokenFile: file().default('/var/run/secrets/tokens/spire-agent'),
    }).optional(),
  }).superRefine((value, ctx) => {
    if (value.joinTokenFile !== undefined && value.nodeAttestor !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'set joinTokenFile or nodeAttestor, not both: they are two ways to attest the node', path: [] });
    }
  });
}

/** host:port where host is a DNS name or an IP address (SPIRE servers are usually reached by name). */
function serverAddressProblem(text: string): string | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  if (!match || port === 0 || port > 65535) return `"${text}" is not host:port (e.g. spire-server.spire:8081 or 127.0.0.1:8081)`;
  return undefined;
}
